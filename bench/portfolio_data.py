"""A large synthetic household for the portfolio bench, as the files a user would import.

Five accounts (one in euros), 200 instruments (stocks, ETFs, bond funds; a fifth quoted in
euros; a few with an unknown sector), ten years of monthly closes and EUR/USD rates, and a
ledger of exactly ``size`` transactions of every type: opening buys of every instrument in
every account (so 1,000 holdings that stay open: sales take at most half of what is held),
then random buys and sales, quarterly dividends on a third of the instruments, monthly
interest, quarterly fees, yearly withdrawals, and a deposit just before any buy the cash
does not cover (so no cash balance ends a day below 0). The ledger is replayed while it is
generated, so it imports without a fault. The events are cut at ``size`` in date order: at
the default 100,000 the ledger runs to November 2026; a much smaller size covers fewer
years. Seeded: the same ``seed`` gives the same files.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from alex.portfolio.formats.alex_csv import dump_prices, dump_transactions
from alex.portfolio.formats.reference_csv import dump_accounts, dump_fx, dump_instruments
from alex.portfolio.model import (
    Account,
    AccountKind,
    FxRate,
    Instrument,
    InstrumentType,
    Price,
    Transaction,
    Weights,
)
from alex.portfolio.model import TransactionType as T

TODAY = date(2026, 12, 31)
START = date(2017, 1, 2)  # ten years to TODAY
ACCOUNTS = (
    Account("brokerage", "Brokerage", AccountKind.TAXABLE, "USD"),
    Account("ira", "Traditional IRA", AccountKind.RETIREMENT, "USD"),
    Account("roth", "Roth IRA", AccountKind.RETIREMENT, "USD"),
    Account("joint", "Joint brokerage", AccountKind.TAXABLE, "USD"),
    Account("eu-broker", "European broker", AccountKind.TAXABLE, "EUR"),
)
_REGIONS = ("us", "europe", "asia", "emerging")
_SECTORS = ("technology", "health", "financials", "energy", "industrials", "consumer")
_CENT = Decimal("0.01")
_MILLI = Decimal("0.001")


@dataclass(frozen=True)
class Household:
    accounts: str  # Alex's CSVs, as imported
    instruments: str
    fx: str
    prices: str
    transactions: str
    symbols: int
    first: date
    last: date


def _pct(**shares: int) -> Weights:
    return Weights({bucket: Decimal(share) for bucket, share in shares.items()})


def _instrument(index: int, rng: random.Random) -> Instrument:
    kind = rng.choices((InstrumentType.STOCK, InstrumentType.ETF, InstrumentType.BOND), (6, 3, 1))[
        0
    ]
    region = rng.choice(_REGIONS)
    if kind is InstrumentType.BOND:
        asset_class, sectors = _pct(bond=100), _pct(government=100)
    elif kind is InstrumentType.ETF:
        asset_class = _pct(equity=80, bond=20) if index % 4 == 0 else _pct(equity=100)
        sectors = _pct(**{sector: 25 for sector in rng.sample(_SECTORS, 4)})
    else:
        asset_class, sectors = _pct(equity=100), _pct(**{rng.choice(_SECTORS): 100})
    return Instrument(
        symbol=f"SYM{index:03d}",
        name=f"Synthetic {kind.value} {index}",
        type=kind,
        currency="EUR" if index % 5 == 4 else "USD",
        asset_class=asset_class,
        region=_pct(**{region: 100}) if index % 3 else _pct(us=60, **{"europe": 40}),
        sector=Weights() if index % 17 == 0 else sectors,  # a few left unknown
    )


def _months() -> list[date]:
    return [date(year, month, 28) for year in range(2017, 2027) for month in range(1, 13)]


def _walk(rng: random.Random, start: float, months: int, drift: float, vol: float) -> list[Decimal]:
    """Monthly closes of a geometric random walk, in cents."""
    value, closes = start, []
    for _ in range(months):
        value *= 1 + rng.gauss(drift, vol)
        value = max(value, 1.0)
        closes.append(Decimal(str(round(value, 2))))
    return closes


def household(size: int = 100_000, symbols: int = 200, seed: int = 13) -> Household:
    rng = random.Random(seed)
    instruments = [_instrument(i, rng) for i in range(symbols)]
    months = _months()
    closes = {
        i.symbol: _walk(rng, rng.uniform(20, 400), len(months), 0.006, 0.05) for i in instruments
    }
    eur_usd = _walk(rng, 1.10, len(months), 0.0, 0.015)
    prices = [
        Price(i.symbol, day, closes[i.symbol][m], i.currency)
        for i in instruments
        for m, day in enumerate(months)
    ]
    rates = [FxRate(day, "EUR", "USD", rate) for day, rate in zip(months, eur_usd, strict=True)]
    transactions = _ledger(size, instruments, closes, rng)
    return Household(
        accounts=dump_accounts(ACCOUNTS),
        instruments=dump_instruments(instruments),
        fx=dump_fx(rates),
        prices=dump_prices(prices),
        transactions=dump_transactions(transactions),
        symbols=symbols,
        first=transactions[0].date,
        last=transactions[-1].date,
    )


def _ledger(
    size: int, instruments: list[Instrument], closes: dict[str, list[Decimal]], rng: random.Random
) -> list[Transaction]:
    days = (TODAY - START).days
    currency = {i.symbol: i.currency for i in instruments} | {a.id: a.currency for a in ACCOUNTS}
    payers = [i.symbol for i in instruments if i.type is not InstrumentType.BOND][::3]
    # (day, account, type, symbol): scheduled events, then random trades to fill the size.
    events: list[tuple[date, str, T, str | None]] = []
    for a in ACCOUNTS:
        events += [(START, a.id, T.BUY, i.symbol) for i in instruments]
        for month in _months():
            events.append((month, a.id, T.INTEREST, None))
            if month.month % 3 == 0:
                events.append((month, a.id, T.FEE, None))
                events += [(month - timedelta(days=13), a.id, T.DIVIDEND, s) for s in payers]
            if month.month == 12:
                events.append((month + timedelta(days=1), a.id, T.WITHDRAWAL, None))
    for _ in range(size - len(events)):
        day = START + timedelta(days=rng.randint(1, days))
        events.append((day, rng.choice(ACCOUNTS).id, T.BUY, rng.choice(instruments).symbol))
    events.sort(key=lambda e: (e[0], e[2] is not T.BUY, e[1], e[3] or ""))

    held: dict[tuple[str, str], Decimal] = {}
    bought: dict[tuple[str, str], date] = {}  # the last day of a buy: not sold that day
    cash: dict[tuple[str, str], Decimal] = {}
    out: list[Transaction] = []

    def add(
        day: date,
        account: str,
        kind: T,
        symbol: str | None,
        qty: Decimal,
        price: Decimal,
        fee: Decimal,
        cur: str,
    ) -> None:
        out.append(Transaction(day, account, kind, symbol, qty, price, fee, cur))
        effect = qty * price
        sign = 1 if kind in (T.DEPOSIT, T.SELL, T.DIVIDEND, T.INTEREST) else -1
        cash[(account, cur)] = cash.get((account, cur), Decimal(0)) + sign * effect - fee

    for day, account, kind, symbol in events:
        if len(out) >= size:
            break
        step = min((day.year - START.year) * 12 + day.month - 1, 119)
        wallet = (account, currency[symbol or account])
        balance = cash.get(wallet, Decimal(0))
        if symbol is None:  # a cash move: its amount is the unit price of one unit
            if kind is T.INTEREST:
                amount = (balance * Decimal("0.001")).quantize(_CENT).max(_CENT)
            else:
                amount = Decimal("4.95") if kind is T.FEE else Decimal(5000)
            if kind is not T.WITHDRAWAL or balance > 20_000:
                add(day, account, kind, None, Decimal(1), amount, Decimal(0), wallet[1])
            continue
        key = (account, symbol)
        price = (closes[symbol][step] * Decimal(rng.uniform(0.97, 1.03))).quantize(_CENT)
        if kind is T.DIVIDEND:
            units = held.get(key, Decimal(0))
            if units:
                per_unit = (price * Decimal("0.005")).quantize(_CENT).max(_CENT)
                add(day, account, kind, symbol, units, per_unit, Decimal(0), wallet[1])
            continue
        fee = Decimal(rng.choice(("0", "0", "1.00", "4.95")))
        sellable = held.get(key, Decimal(0)) if bought.get(key) != day else Decimal(0)
        if day > START and rng.random() < 0.3 and sellable >= 1:
            qty = (sellable * Decimal(rng.uniform(0.1, 0.5))).quantize(_MILLI)
            add(day, account, T.SELL, symbol, qty, price, fee, wallet[1])
            held[key] = sellable - qty
            continue
        qty = (
            Decimal(rng.randint(1, 40))
            if rng.random() < 0.8
            else Decimal(rng.randint(100, 9999)) / 1000
        )
        cost = qty * price + fee
        if cost > balance:  # money in first, rounded up to the next 1,000 plus a cushion
            top_up = ((cost - balance) / 1000).to_integral_value(ROUND_CEILING) * 1000
            add(day, account, T.DEPOSIT, None, Decimal(1), top_up + 25_000, Decimal(0), wallet[1])
            if len(out) >= size:
                break
        add(day, account, T.BUY, symbol, qty, price, fee, wallet[1])
        held[key] = held.get(key, Decimal(0)) + qty
        bought[key] = day
    return out
