"""``InMemoryPortfolioStore``: the ``PortfolioStore`` port in dicts, for use-case tests.

It runs the stores' shared checks (``alex.adapters.portfolio_checks``) before each write, so
it refuses what the real stores refuse; ``tests/unit/test_portfolio_store_contract.py`` runs
it through the same contract as SQLite and DynamoDB.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from alex.adapters import portfolio_checks as checks
from alex.domain.errors import InvalidInputError
from alex.portfolio.model import (
    Account,
    FxRate,
    Instrument,
    PortfolioSettings,
    Price,
    RecordedTransaction,
    Weights,
)


class InMemoryPortfolioStore:
    def __init__(self) -> None:
        self._accounts: dict[str, Account] = {}
        self._instruments: dict[str, Instrument] = {}
        self._transactions: dict[str, RecordedTransaction] = {}
        self._prices: dict[tuple[str, date], Price] = {}
        self._rates: dict[tuple[str, str, date], FxRate] = {}
        self._targets: dict[str, Weights] = {}
        self._settings = PortfolioSettings()

    def put_account(self, account: Account) -> None:
        checks.check_account(account)
        self._accounts[account.id] = account

    def get_account(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    def list_accounts(self) -> list[Account]:
        return [self._accounts[key] for key in sorted(self._accounts)]

    def delete_account(self, account_id: str) -> bool:
        used = sum(e.transaction.account == account_id for e in self._transactions.values())
        checks.check_account_unused(account_id, used)
        return self._accounts.pop(account_id, None) is not None

    def put_instrument(self, instrument: Instrument) -> None:
        checks.check_instrument(instrument)
        self._instruments[instrument.symbol] = instrument

    def get_instrument(self, symbol: str) -> Instrument | None:
        return self._instruments.get(symbol)

    def list_instruments(self) -> list[Instrument]:
        return [self._instruments[key] for key in sorted(self._instruments)]

    def add_transactions(self, entries: Sequence[RecordedTransaction]) -> int:
        new = [
            entry
            for entry in checks.check_transactions(entries, self._accounts)
            if entry.id not in self._transactions
        ]
        self._transactions.update((entry.id, entry) for entry in new)
        return len(new)

    def list_transactions(
        self, account: str | None = None, start: date | None = None, end: date | None = None
    ) -> list[RecordedTransaction]:
        chosen = [
            entry
            for entry in self._transactions.values()
            if (account is None or entry.transaction.account == account)
            and (start is None or entry.transaction.date >= start)
            and (end is None or entry.transaction.date <= end)
        ]
        return sorted(chosen, key=lambda entry: (entry.transaction.date, entry.id))

    def delete_transaction(self, transaction_id: str) -> bool:
        return self._transactions.pop(transaction_id, None) is not None

    def replace_transaction(self, transaction_id: str, entry: RecordedTransaction) -> bool:
        checks.check_transactions([entry], self._accounts)
        if transaction_id not in self._transactions:
            return False
        if entry.id != transaction_id and entry.id in self._transactions:
            raise InvalidInputError(f"transaction {entry.id!r} is stored already")
        del self._transactions[transaction_id]
        self._transactions[entry.id] = entry
        return True

    def put_prices(self, prices: Sequence[Price]) -> None:
        for price in checks.check_all(prices, checks.check_price, "price"):
            self._prices[price.symbol, price.date] = price

    def last_price(self, symbol: str, on: date) -> Price | None:
        return max(
            (p for (s, day), p in self._prices.items() if s == symbol and day <= on),
            key=lambda p: p.date,
            default=None,
        )

    def list_prices(self, symbol: str) -> list[Price]:
        return sorted((p for p in self._prices.values() if p.symbol == symbol), key=_by_date)

    def put_fx_rates(self, rates: Sequence[FxRate]) -> None:
        for rate in checks.check_all(rates, checks.check_fx_rate, "FX rate"):
            self._rates[rate.base, rate.quote, rate.date] = rate

    def last_fx_rate(self, base: str, quote: str, on: date) -> FxRate | None:
        return max(
            (r for r in self.list_fx_rates(base, quote) if r.date <= on),
            key=_by_date,
            default=None,
        )

    def list_fx_rates(self, base: str, quote: str) -> list[FxRate]:
        pair = (base, quote)
        return sorted((r for r in self._rates.values() if (r.base, r.quote) == pair), key=_by_date)

    def put_target(self, dimension: str, weights: Weights) -> None:
        checks.check_target(dimension, weights)
        if weights.known:
            self._targets[dimension] = weights
        else:
            self._targets.pop(dimension, None)

    def targets(self) -> dict[str, Weights]:
        return dict(self._targets)

    def get_settings(self) -> PortfolioSettings:
        return self._settings

    def put_settings(self, settings: PortfolioSettings) -> None:
        checks.check_settings(settings)
        self._settings = settings

    def close(self) -> None:
        pass


def _by_date(record: Price | FxRate) -> date:
    return record.date
