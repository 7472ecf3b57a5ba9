"""Holdings, cost basis, realised gains, cash, income and fees, derived from transactions.

Nothing here is stored: :func:`ledger` replays the transactions every time, so the
transactions stay the one truth (docs/portfolio.md, "Holdings and cost basis").

Order. Transactions may come in any order; they are replayed by date, and within one day by
type (deposits, interest, dividends, buys, sells, fees, withdrawals: money and units arrive
before they leave, so a same-day buy-then-sell never reads as selling more than held), then
by every other field. The order is a function of the transactions' contents alone, so the
result does not depend on the order they were given in.

Cost. Average cost (a "pool", as the UK's Section 104 holding): a buy adds its amount plus its
fee to the pool's cost; a sell takes out cost in proportion to the units sold
(``cost x sold / held``), rounded half to even to :data:`COST_QUANTUM` so the pool and the
costs taken out always add back up exactly to what was paid; selling the last unit takes out
whatever cost is left. Realised gain = proceeds net of the sale's fee - cost taken out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

from alex.domain.errors import InvalidInputError
from alex.portfolio.model import TRADES, Transaction, TransactionType, is_currency

# Far below any currency's minor unit, and few enough digits that sums stay exact in
# decimal's default 28-digit context for amounts up to 10**17.
COST_QUANTUM = Decimal("1e-10")
_ZERO = Decimal(0)

# Within a day: what brings money or units in comes before what takes them out.
_DAY_ORDER = {
    TransactionType.DEPOSIT: 0,
    TransactionType.INTEREST: 1,
    TransactionType.DIVIDEND: 2,
    TransactionType.BUY: 3,
    TransactionType.SELL: 4,
    TransactionType.FEE: 5,
    TransactionType.WITHDRAWAL: 6,
}
INCOME_TYPES = frozenset({TransactionType.DIVIDEND, TransactionType.INTEREST})


@dataclass(frozen=True)
class Holding:
    """Units of one instrument in one account, and what they cost (in ``currency``)."""

    account: str
    symbol: str
    currency: str  # the currency the instrument was traded in
    quantity: Decimal
    cost_basis: Decimal  # amounts paid plus buy fees, less the cost of units sold

    @property
    def average_cost(self) -> Decimal:
        """Cost per unit: ``cost_basis / quantity``."""
        return self.cost_basis / self.quantity


@dataclass(frozen=True)
class Disposal:
    """The realised gain of one ``SELL`` (average cost)."""

    date: date
    account: str
    symbol: str
    currency: str
    quantity: Decimal
    proceeds: Decimal  # quantity x unit price - fee
    cost: Decimal  # the pool's cost taken out for these units

    @property
    def gain(self) -> Decimal:
        return self.proceeds - self.cost


class IncomeKey(NamedTuple):
    year: int
    account: str
    type: TransactionType  # DIVIDEND or INTEREST
    currency: str


@dataclass(frozen=True)
class Ledger:
    """Everything the transactions add up to. Amounts are exact (no rounding); each is in
    the currency named beside it, never summed across currencies."""

    holdings: tuple[Holding, ...]  # units still held (quantity > 0), by account then symbol
    disposals: tuple[Disposal, ...]  # every SELL, in replay order
    cash: Mapping[tuple[str, str], Decimal]  # (account, currency) -> balance
    income: Mapping[IncomeKey, Decimal]  # gross dividends and interest (their fees are fees)
    fees: Mapping[tuple[str, str], Decimal]  # (account, currency) -> every fee, and FEE rows

    def holding(self, account: str, symbol: str) -> Holding | None:
        return next((h for h in self.holdings if h.account == account and h.symbol == symbol), None)

    def income_by_year(self) -> dict[tuple[int, str], Decimal]:
        """Dividends plus interest, all accounts, by (calendar year, currency)."""
        totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
        for key, amount in self.income.items():
            totals[(key.year, key.currency)] += amount
        return dict(sorted(totals.items()))

    def realised_gain(self) -> dict[str, Decimal]:
        """The sum of every disposal's gain, by currency."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for disposal in self.disposals:
            totals[disposal.currency] += disposal.gain
        return dict(sorted(totals.items()))


def describe(transaction: Transaction) -> str:
    """How an error names a transaction: date, account, type, symbol."""
    t = transaction
    return f"{t.date.isoformat()} {t.account} {t.type.value} {t.symbol or '-'}"


def replay_order(transactions: Iterable[Transaction]) -> list[Transaction]:
    """The transactions in the order :func:`ledger` applies them (see the module's doc)."""
    return sorted(transactions, key=_replay_key)


def _replay_key(t: Transaction) -> tuple[date, int, str, str, str, Decimal, Decimal, Decimal, str]:
    return (
        t.date,
        _DAY_ORDER[t.type],
        t.account,
        t.symbol or "",
        t.currency,
        t.quantity,
        t.unit_price,
        t.fee,
        t.note,
    )


class _Pool:
    """One (account, symbol) average-cost pool while replaying."""

    __slots__ = ("cost", "currency", "quantity")

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.quantity = _ZERO
        self.cost = _ZERO


def ledger(transactions: Iterable[Transaction]) -> Ledger:
    """Replay ``transactions`` (any order) into holdings, disposals, cash, income and fees.

    Raises :class:`InvalidInputError` naming the transaction (date, account, type, symbol)
    for a negative quantity, price or fee, a trade without a symbol or with no units, a
    trade in another currency than the holding's, or a sale of more units than held.
    """
    replay = Replay()
    for t in replay_order(transactions):
        replay.apply(t)
    return replay.ledger()


class Replay:
    """The ledger built one transaction at a time: :func:`ledger` applies them all, the value
    history (:mod:`alex.portfolio.history`) reads the ledger between two days of one replay.

    The caller applies transactions in :func:`replay_order`; :meth:`apply` raises as
    :func:`ledger` does.
    """

    def __init__(self) -> None:
        self._pools: dict[tuple[str, str], _Pool] = {}
        self._disposals: list[Disposal] = []
        self._cash: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        self._income: dict[IncomeKey, Decimal] = defaultdict(Decimal)
        self._fees: dict[tuple[str, str], Decimal] = defaultdict(Decimal)

    def apply(self, t: Transaction) -> None:
        _check(t)
        wallet = (t.account, t.currency)
        self._fees[wallet] += t.fee
        if t.type in TRADES:
            disposal = _trade(self._pools, t)
            if disposal is not None:
                self._disposals.append(disposal)
        if t.type is TransactionType.FEE:
            self._fees[wallet] += t.amount
        if t.type in INCOME_TYPES:
            self._income[IncomeKey(t.date.year, t.account, t.type, t.currency)] += t.amount
        self._cash[wallet] += cash_effect(t)

    def ledger(self) -> Ledger:
        """What the transactions applied so far add up to (a snapshot: later applies do not
        change it)."""
        holdings = tuple(
            Holding(account, symbol, pool.currency, pool.quantity, pool.cost)
            for (account, symbol), pool in sorted(self._pools.items())
            if pool.quantity > 0
        )
        return Ledger(
            holdings=holdings,
            disposals=tuple(self._disposals),
            cash=dict(sorted(self._cash.items())),
            income=dict(sorted(self._income.items())),
            fees=dict(sorted(self._fees.items())),
        )


def _check(t: Transaction) -> None:
    for name in ("quantity", "unit_price", "fee"):
        if getattr(t, name) < 0:
            raise InvalidInputError(f"{describe(t)}: {name} is negative")
    if not is_currency(t.currency):
        raise InvalidInputError(f"{describe(t)}: currency {t.currency!r} is not an ISO code")
    if t.type in TRADES:
        if not t.symbol:
            raise InvalidInputError(f"{describe(t)}: a trade needs a symbol")
        if t.quantity == 0:
            raise InvalidInputError(f"{describe(t)}: a trade needs a quantity above zero")


def _trade(pools: dict[tuple[str, str], _Pool], t: Transaction) -> Disposal | None:
    assert t.symbol  # _check made sure
    pool = pools.setdefault((t.account, t.symbol), _Pool(t.currency))
    if pool.quantity == 0:
        pool.currency = t.currency  # an emptied pool may restart in another currency
    elif pool.currency != t.currency:
        raise InvalidInputError(
            f"{describe(t)}: traded in {t.currency} but the holding is in {pool.currency}"
        )
    if t.type is TransactionType.BUY:
        pool.quantity += t.quantity
        pool.cost += t.amount + t.fee
        return None
    if t.quantity > pool.quantity:
        raise InvalidInputError(
            f"{describe(t)}: sells {t.quantity} units but {pool.quantity} are held"
        )
    if t.quantity == pool.quantity:
        cost = pool.cost  # the last unit takes all that is left: no remainder lingers
    else:
        cost = (pool.cost * t.quantity / pool.quantity).quantize(
            COST_QUANTUM, rounding=ROUND_HALF_EVEN
        )
    pool.quantity -= t.quantity
    pool.cost -= cost
    return Disposal(
        date=t.date,
        account=t.account,
        symbol=t.symbol,
        currency=t.currency,
        quantity=t.quantity,
        proceeds=t.amount - t.fee,
        cost=cost,
    )


def cash_effect(t: Transaction) -> Decimal:
    """What the transaction does to the account's cash in ``t.currency``."""
    match t.type:
        case TransactionType.DEPOSIT:
            return t.amount - t.fee
        case TransactionType.WITHDRAWAL:
            return -t.amount - t.fee
        case TransactionType.BUY:
            return -(t.amount + t.fee)
        case TransactionType.SELL | TransactionType.DIVIDEND | TransactionType.INTEREST:
            return t.amount - t.fee
        case TransactionType.FEE:
            return -t.amount - t.fee


def cash_on(transactions: Iterable[Transaction], account: str, currency: str, day: date) -> Decimal:
    """The account's cash in ``currency`` at the end of ``day``: the cash effects of its
    transactions in that currency dated on or before it (as :func:`ledger` adds them up)."""
    return sum(
        (
            cash_effect(t)
            for t in transactions
            if t.account == account and t.currency == currency and t.date <= day
        ),
        _ZERO,
    )
