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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any, Literal, get_args

# ISO 4217 codes: three upper-case letters. Which ones exist is the FX table's business.
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Currencies without minor units, and the exponent of everything else.
_ZERO_DECIMAL = frozenset({"JPY", "KRW", "CLP", "ISK", "VND", "UGX", "XAF", "XOF"})
HUNDRED = Decimal(100)
MAX_AGE = 120  # the oldest age a plan may name


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

# The bucket names a model may propose (alex.planner.tagger holds its answers to them). A
# user's own weights may use any lower-case words; these are the ones the samples and the
# projection use: "equity", "bond" and "cash" have return assumptions, "cash" is also where
# the allocation puts cash balances, and the sectors are GICS's eleven (information
# technology as "technology") plus "government" for government debt.
AssetClassBucket = Literal["equity", "bond", "cash", "real_estate", "commodity", "other"]
RegionBucket = Literal[
    "north_america", "latin_america", "europe", "middle_east_africa", "asia_pacific", "other"
]
SectorBucket = Literal[
    "technology",
    "financials",
    "health_care",
    "consumer_discretionary",
    "consumer_staples",
    "industrials",
    "energy",
    "materials",
    "utilities",
    "real_estate",
    "communication_services",
    "government",
    "other",
]
PROPOSED_BUCKETS: dict[str, tuple[str, ...]] = {
    "asset_class": get_args(AssetClassBucket),
    "region": get_args(RegionBucket),
    "sector": get_args(SectorBucket),
}
CLASSIFIED = tuple(PROPOSED_BUCKETS)  # the instrument's three weights, in order
MAX_REASON_CHARS = 300  # a proposal's reason: a sentence or two


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


# --- Prices and FX rates -------------------------------------------------------------------
# Added with valuation (alex.portfolio.valuation); the price import and the stores use the same
# two records. A price or rate is a fact about one day: which one is "last known" on a given
# day, and whether it is stale, is the valuation's business.


# The dimensions an allocation (and so a target) is computed along.
DIMENSIONS = ("asset_class", "region", "sector", "currency", "account")


@dataclass(frozen=True)
class Price:
    """The closing price of one unit of ``symbol`` on ``date``, in ``currency``."""

    symbol: str
    date: date
    close: Decimal
    currency: str


@dataclass(frozen=True)
class FxRate:
    """On ``date``, 1 ``base`` = ``rate`` ``quote`` (EUR/USD 1.08: one euro buys 1.08 dollars)."""

    date: date
    base: str
    quote: str
    rate: Decimal


@dataclass(frozen=True)
class RecordedTransaction:
    """A transaction with the id it is stored under: the key of idempotent imports."""

    id: str
    transaction: Transaction


@dataclass(frozen=True)
class ProjectionDefaults:
    """The retirement projection's personal inputs, kept with the settings. ``None`` is "not
    set": the projection's own default applies, and an argument given to a projection wins.

    The birth year, not an age: a stored age is wrong after the next birthday, a birth year
    never. The projection's steps are whole years, so the age is ``year - birth_year`` (the
    age reached during the year), whatever the birthday. Money in the base currency, yearly;
    ``spending`` in today's money; ``contribution_growth`` and ``fee`` fractions a year.
    """

    birth_year: int | None = None
    retirement_age: int | None = None
    end_age: int | None = None
    contribution: Decimal | None = None
    contribution_growth: Decimal | None = None
    spending: Decimal | None = None
    fee: Decimal | None = None

    def as_text(self) -> dict[str, str]:
        """The inputs set, as decimal text by name (how the stores keep them)."""
        chosen = {name: getattr(self, name) for name in _PROJECTION_INPUTS}
        return {name: str(value) for name, value in chosen.items() if value is not None}

    @classmethod
    def from_text(cls, values: Mapping[str, str]) -> ProjectionDefaults:
        """The reverse of :meth:`as_text`: ages and years whole, the rest exact decimals."""
        parsed: dict[str, Any] = {
            name: int(Decimal(text)) if name in WHOLE_NUMBER_INPUTS else Decimal(text)
            for name, text in values.items()
        }
        return cls(**parsed)


# The projection's inputs in ProjectionDefaults, and those that are whole numbers.
_PROJECTION_INPUTS = (
    "birth_year",
    "retirement_age",
    "end_age",
    "contribution",
    "contribution_growth",
    "spending",
    "fee",
)
WHOLE_NUMBER_INPUTS = frozenset({"birth_year", "retirement_age", "end_age"})


@dataclass(frozen=True)
class PortfolioSettings:
    """The user's settings; each has a default, so a new portfolio needs none.

    ``risk_thresholds`` holds only the thresholds the user changed, by risk rule name (the
    rules own their defaults); ``monthly_spending`` is in ``base_currency``, None when unset.
    """

    base_currency: str = "USD"
    monthly_spending: Decimal | None = None
    stale_price_days: int = 7
    risk_thresholds: dict[str, Decimal] = field(default_factory=dict)
    projection: ProjectionDefaults = field(default_factory=ProjectionDefaults)


@dataclass(frozen=True)
class ProposedClassification:
    """Weights a model proposed for an instrument, kept beside it until the user accepts
    (they become the instrument's own weights) or rejects them (dropped). Never read by the
    allocation before that: an unknown classification stays unknown.

    Only the dimensions the instrument had unknown when it was proposed carry weights; the
    others are empty (``Weights()``), so accepting can never overwrite a user's weights.
    ``confidence`` is the model's own, 0 to 1; ``model`` names it.
    """

    symbol: str
    asset_class: Weights
    region: Weights
    sector: Weights
    confidence: Decimal
    reason: str
    model: str
    proposed_on: date

    def weights(self) -> dict[str, Weights]:
        """The proposed weights by dimension, those proposed only."""
        found = {name: getattr(self, name) for name in CLASSIFIED}
        return {name: weights for name, weights in found.items() if weights.known}
