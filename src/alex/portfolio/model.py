"""The portfolio's records: accounts, instruments, transactions. No I/O, no floats for money.

Holdings are never stored: they are derived from the transactions (:mod:`alex.portfolio.holdings`),
so there is one truth. A holdings snapshot is imported as opening ``BUY`` transactions dated
the day of the snapshot.

Money and quantities are :class:`~decimal.Decimal`, built from strings (``Decimal("0.1")``,
never ``Decimal(0.1)``). Sums are exact; rounding happens only where a figure is shown or
stored as money: :func:`round_money` rounds half to even ("banker's rounding", as
``decimal``'s default context does) to the currency's minor unit (2 places for most, 0 for
JPY and KRW), so a total rounded once equals the rounded sum of exact parts within one minor
unit, and never drifts with the order of the parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

# ISO 4217 codes: three upper-case letters. Which ones exist is the FX table's business.
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Currencies without minor units, and the exponent of everything else.
_ZERO_DECIMAL = frozenset({"JPY", "KRW", "CLP", "ISK", "VND", "UGX", "XAF", "XOF"})
HUNDRED = Decimal(100)


class AccountKind(StrEnum):
    TAXABLE = "taxable"
    RETIREMENT = "retirement"
    SAVINGS = "savings"


class InstrumentType(StrEnum):
    STOCK = "stock"
    ETF = "etf"
    FUND = "fund"
    BOND = "bond"
    CASH_LIKE = "cash_like"


class TransactionType(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    DIVIDEND = "DIVIDEND"
    INTEREST = "INTEREST"
    FEE = "FEE"
    DEPOSIT = "DEPOSIT"
    WITHDRAWAL = "WITHDRAWAL"


# Types that move units of an instrument (the others move only cash).
TRADES = frozenset({TransactionType.BUY, TransactionType.SELL})
UNKNOWN = "unknown"


def is_currency(code: str) -> bool:
    return bool(_CURRENCY.match(code))


def minor_units(currency: str) -> int:
    """Decimal places of the currency's minor unit: 2 for USD, 0 for JPY."""
    return 0 if currency in _ZERO_DECIMAL else 2


def round_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half to even to the currency's minor unit: 2.675 USD -> 2.68,
    2.665 USD -> 2.66, 1234.5 JPY -> 1234."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Account:
    id: str  # a slug the user chose, e.g. "isa" or "brokerage"
    name: str
    kind: AccountKind
    currency: str  # the account's base currency


@dataclass(frozen=True)
class Weights:
    """A classification: shares in per cent by bucket, summing to 100, or unknown (empty).

    ``Weights({"equity": Decimal(60), "bond": Decimal(40)})``; ``Weights({})`` is unknown and
    shows as "unknown" in every allocation, never guessed.
    """

    shares: dict[str, Decimal] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return bool(self.shares)


@dataclass(frozen=True)
class Instrument:
    symbol: str
    name: str
    type: InstrumentType
    currency: str
    asset_class: Weights = field(default_factory=Weights)
    region: Weights = field(default_factory=Weights)
    sector: Weights = field(default_factory=Weights)


@dataclass(frozen=True)
class Transaction:
    """One activity. ``quantity`` and ``unit_price`` apply to trades and to dividends
    (units held x dividend per unit); cash moves (``DEPOSIT``, ``WITHDRAWAL``, ``INTEREST``,
    ``FEE``) carry their amount as ``unit_price`` with ``quantity`` 1. ``fee`` is always
    paid on top, in ``currency``."""

    date: date
    account: str
    type: TransactionType
    symbol: str | None
    quantity: Decimal
    unit_price: Decimal
    fee: Decimal
    currency: str
    note: str = ""

    @property
    def amount(self) -> Decimal:
        """Quantity x unit price, before the fee."""
        return self.quantity * self.unit_price


# --- Prices and FX rates (added for the import formats, alex.portfolio.formats) -------------


@dataclass(frozen=True)
class Price:
    """A closing price of one unit of ``symbol`` on ``date``, in ``currency``."""

    symbol: str
    date: date
    close: Decimal
    currency: str


@dataclass(frozen=True)
class FxRate:
    """On ``date``, one unit of ``base`` was worth ``rate`` units of ``quote``
    (``FxRate(d, "EUR", "USD", Decimal("1.08"))``: 1 EUR = 1.08 USD)."""

    date: date
    base: str
    quote: str
    rate: Decimal
