"""What every :class:`~alex.ports.PortfolioStore` accepts: one set of checks, run before a write.

Every store (SQLite, DynamoDB, the tests' in-memory fake) calls these first, so a record one
store refuses is refused by all, with the same message, and nothing of the batch is written.
The limits are the narrowest store's: DynamoDB keeps numbers to 38 significant digits between
1E-130 and 1E+125, and its sort keys join parts with ``#`` (so no identifier holds one).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from decimal import Decimal
from typing import TypeVar

from alex.domain.errors import InvalidInputError
from alex.portfolio.model import (
    CLASSIFIED,
    DIMENSIONS,
    HUNDRED,
    MAX_AGE,
    MAX_REASON_CHARS,
    Account,
    FxRate,
    Instrument,
    PortfolioSettings,
    Price,
    ProjectionDefaults,
    ProposedClassification,
    RecordedTransaction,
    Weights,
    is_currency,
)

T = TypeVar("T")
MAX_ID_CHARS = 200
MAX_TEXT_CHARS = 2000
_MAX_DIGITS = 38
_SMALLEST_EXPONENT = -130
_LARGEST_EXPONENT = 125


def _fail(where: str, field: str, problem: str) -> InvalidInputError:
    return InvalidInputError(f"{where}, field {field}: {problem}")


def check_id(value: str, where: str, field: str) -> None:
    if not value or len(value) > MAX_ID_CHARS:
        raise _fail(where, field, f"must be 1 to {MAX_ID_CHARS} characters, got {value!r}")
    if "#" in value or not value.isprintable():
        raise _fail(where, field, f"must be printable and hold no '#', got {value!r}")


def check_text(value: str, where: str, field: str, limit: int = MAX_TEXT_CHARS) -> None:
    if len(value) > limit:
        raise _fail(where, field, f"is {len(value)} characters, the most is {limit}")


def check_currency(value: str, where: str, field: str) -> None:
    if not is_currency(value):
        raise _fail(where, field, f"must be a three-letter ISO 4217 code, got {value!r}")


def check_number(value: Decimal, where: str, field: str, minimum: Decimal | None = None) -> None:
    """A finite decimal every store keeps exactly, at least ``minimum`` if given."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise _fail(where, field, f"must be a finite decimal, got {value!r}")
    if value:
        # Not normalize(): it rounds to the context's 28 digits.
        significant = "".join(map(str, value.as_tuple().digits)).rstrip("0")
        if len(significant) > _MAX_DIGITS:
            raise _fail(where, field, f"has more than {_MAX_DIGITS} significant digits")
        # adjusted(): the power of ten of the first digit.
        if not _SMALLEST_EXPONENT <= value.adjusted() <= _LARGEST_EXPONENT:
            raise _fail(where, field, f"is out of range (1E{_SMALLEST_EXPONENT} to 1E+125)")
    if minimum is not None and value < minimum:
        raise _fail(where, field, f"must be at least {minimum}, got {value}")


def check_weights(weights: Weights, where: str, field: str) -> None:
    """Shares of 0 to 100 per cent summing to exactly 100, or none (unknown)."""
    for bucket, share in weights.shares.items():
        check_id(bucket, where, f"{field} bucket")
        check_number(share, where, f"{field}[{bucket}]", Decimal(0))
    total = sum(weights.shares.values(), Decimal(0))
    if weights.known and total != HUNDRED:
        raise _fail(where, field, f"shares must sum to 100, they sum to {total}")


def check_account(account: Account) -> None:
    where = f"account {account.id!r}"
    check_id(account.id, where, "id")
    check_text(account.name, where, "name", MAX_ID_CHARS)
    check_currency(account.currency, where, "currency")


def check_account_unused(account_id: str, transactions: int) -> None:
    """An account is deleted only when no transaction names it: cash and holdings are derived
    from them, so deleting it would orphan them (or silently change every figure)."""
    if transactions:
        raise _fail(
            f"account {account_id!r}",
            "id",
            f"{transactions} transactions are stored in it; delete them first",
        )


def check_instrument(instrument: Instrument) -> None:
    where = f"instrument {instrument.symbol!r}"
    check_id(instrument.symbol, where, "symbol")
    check_text(instrument.name, where, "name", MAX_ID_CHARS)
    check_currency(instrument.currency, where, "currency")
    for field in ("asset_class", "region", "sector"):
        check_weights(getattr(instrument, field), where, field)


def check_proposal(proposal: ProposedClassification, instruments: Collection[str]) -> None:
    """A proposal for an instrument stored in ``instruments``, with weights for at least one
    dimension, a confidence from 0 to 1, a reason and the model's name."""
    where = f"proposal {proposal.symbol!r}"
    check_id(proposal.symbol, where, "symbol")
    if proposal.symbol not in instruments:
        raise _fail(where, "symbol", f"no instrument {proposal.symbol!r} is stored")
    for field in CLASSIFIED:
        check_weights(getattr(proposal, field), where, field)
    if not proposal.weights():
        raise _fail(where, "weights", "proposes no weights")
    check_number(proposal.confidence, where, "confidence", Decimal(0))
    if proposal.confidence > 1:
        raise _fail(where, "confidence", f"must be at most 1, got {proposal.confidence}")
    if not proposal.reason.strip():
        raise _fail(where, "reason", "must not be empty")
    check_text(proposal.reason, where, "reason", MAX_REASON_CHARS)
    if not proposal.model.strip():
        raise _fail(where, "model", "must name the model")
    check_text(proposal.model, where, "model", MAX_ID_CHARS)


def check_transactions(
    entries: Sequence[RecordedTransaction], accounts: Collection[str]
) -> list[RecordedTransaction]:
    """The entries with repeats of an identical entry dropped, in order; InvalidInputError
    naming the first bad one (``entry 3``, counted from 1) and its field."""
    unique: dict[str, RecordedTransaction] = {}
    for number, entry in enumerate(entries, start=1):
        where = f"transaction entry {number} (id {entry.id!r})"
        check_id(entry.id, where, "id")
        t = entry.transaction
        if t.account not in accounts:
            raise _fail(where, "account", f"no account {t.account!r} is stored")
        if t.symbol is not None:
            check_id(t.symbol, where, "symbol")
        check_currency(t.currency, where, "currency")
        for field in ("quantity", "unit_price", "fee"):
            check_number(getattr(t, field), where, field)
        check_text(t.note, where, "note")
        seen = unique.setdefault(entry.id, entry)
        if seen != entry:
            raise _fail(where, "id", "the same id is given to a different transaction earlier")
    return list(unique.values())


def check_all(records: Iterable[T], check: Callable[[T, str], None], kind: str) -> list[T]:
    """``records`` as a list, each checked by ``check(record, "<kind> entry N")``."""
    listed = list(records)
    for number, record in enumerate(listed, start=1):
        check(record, f"{kind} entry {number}")
    return listed


def check_price(price: Price, where: str) -> None:
    check_id(price.symbol, where, "symbol")
    check_number(price.close, where, "close", Decimal(0))
    check_currency(price.currency, where, "currency")


def check_fx_rate(rate: FxRate, where: str) -> None:
    check_currency(rate.base, where, "base")
    check_currency(rate.quote, where, "quote")
    if rate.base == rate.quote:
        raise _fail(where, "quote", f"must differ from the base {rate.base}")
    check_number(rate.rate, where, "rate", Decimal(0))
    if not rate.rate:
        raise _fail(where, "rate", "must be above 0")


def check_target(dimension: str, weights: Weights) -> None:
    where = f"target {dimension!r}"
    if dimension not in DIMENSIONS:
        raise _fail(where, "dimension", f"must be one of {', '.join(DIMENSIONS)}")
    check_weights(weights, where, "weights")


def check_settings(settings: PortfolioSettings) -> None:
    where = "settings"
    check_currency(settings.base_currency, where, "base_currency")
    if settings.monthly_spending is not None:
        check_number(settings.monthly_spending, where, "monthly_spending", Decimal(0))
    if isinstance(settings.stale_price_days, bool) or not 0 < settings.stale_price_days <= 3660:
        raise _fail(where, "stale_price_days", "must be a whole number of days from 1 to 3660")
    for rule, threshold in settings.risk_thresholds.items():
        check_id(rule, where, "risk_thresholds rule")
        check_number(threshold, where, f"risk_thresholds[{rule}]")
    check_projection(settings.projection, where)


# A birth year any living user has; the use case checks the age it gives against today.
FIRST_BIRTH_YEAR = 1900
LAST_BIRTH_YEAR = 9999


def check_projection(plan: ProjectionDefaults, where: str) -> None:
    """The projection's inputs on their own (whatever the day): ages 0 to ``MAX_AGE``,
    retirement not after the end, money not negative, growth and fee fractions."""

    def whole(value: int | None, name: str, low: int, high: int) -> None:
        if value is not None and (isinstance(value, bool) or not low <= value <= high):
            raise _fail(where, f"projection.{name}", f"must be from {low} to {high}, got {value}")

    whole(plan.birth_year, "birth_year", FIRST_BIRTH_YEAR, LAST_BIRTH_YEAR)
    whole(plan.retirement_age, "retirement_age", 0, MAX_AGE)
    whole(plan.end_age, "end_age", 1, MAX_AGE)
    retire, end = plan.retirement_age, plan.end_age
    if retire is not None and end is not None and retire > end:
        raise _fail(where, "projection.retirement_age", f"{retire} is after the end age {end}")
    for name in ("contribution", "spending", "contribution_growth", "fee"):
        value = getattr(plan, name)
        if value is not None:
            check_number(value, where, f"projection.{name}", Decimal(0))
    if plan.contribution_growth is not None and plan.contribution_growth > 1:
        raise _fail(where, "projection.contribution_growth", "must be at most 1 (100% a year)")
    if plan.fee is not None and plan.fee >= 1:
        raise _fail(where, "projection.fee", "must be below 1 (a fraction a year)")
