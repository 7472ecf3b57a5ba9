"""Checks of single values and of whole transactions, shared by every import format.

Each check returns the clean value or raises :class:`FieldError` with a message a user can act
on; the format's reader adds the row and column."""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from alex.portfolio.model import TRADES, Transaction, TransactionType, is_currency

# A number as a person writes it: digits, an optional '.' and decimals; no sign, exponent,
# thousands separator or space. The bounds keep amounts far inside what the analytics handle
# (a quadrillion, and ten decimals: crypto needs eight).
MAX_WHOLE_DIGITS = 15
MAX_DECIMALS = 10
_NUMBER = re.compile(rf"^\d{{1,{MAX_WHOLE_DIGITS}}}(\.\d{{1,{MAX_DECIMALS}}})?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A date before this is a typo, not a transaction.
EARLIEST = date(1900, 1, 1)
# Ticker-like: letters, digits and the punctuation exchanges use (BRK.B, EURUSD=X, ^GSPC).
_SYMBOL = re.compile(r"^[A-Za-z0-9^][A-Za-z0-9.\-_:=^/&]{0,63}$")
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_NOTE = 1000
# Types that name an instrument; the cash moves (DEPOSIT, WITHDRAWAL) must not.
NEEDS_SYMBOL = TRADES | {TransactionType.DIVIDEND}
NO_SYMBOL = frozenset({TransactionType.DEPOSIT, TransactionType.WITHDRAWAL})


class FieldError(ValueError):
    """One value is wrong; the message says how, without the row (the reader adds it)."""


def number(raw: str) -> Decimal:
    """``"12.50"`` -> ``Decimal("12.50")``; refuses signs, exponents, separators, floats'
    artefacts beyond :data:`MAX_DECIMALS` places and more than :data:`MAX_WHOLE_DIGITS`
    whole digits."""
    text = raw.strip()
    if _NUMBER.match(text):
        return Decimal(text)
    if not text:
        raise FieldError("empty; expected a number such as 12.50")
    if text.startswith("-"):
        raise FieldError(f"must not be negative (got {raw!r})")
    if "e" in text.lower() and not text.lower().strip("0123456789.e+-"):
        raise FieldError(f"write the number in full, without an exponent (got {raw!r})")
    if "," in text:
        raise FieldError(f"use '.' as the decimal point, no thousands separators (got {raw!r})")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        raise FieldError(
            f"too many digits (at most {MAX_WHOLE_DIGITS} before the point and "
            f"{MAX_DECIMALS} after; got {raw!r})"
        )
    raise FieldError(f"not a number (got {raw!r})")


def bounded(value: Decimal) -> Decimal:
    """A number that arrived already parsed (JSON): finite, not negative, within the digit
    bounds; decimals beyond :data:`MAX_DECIMALS` are rounded half to even, since JSON numbers
    written from binary floats carry artefacts such as 33.333333333333336."""
    if not value.is_finite():
        raise FieldError(f"not a finite number (got {value})")
    if value < 0:
        raise FieldError(f"must not be negative (got {value})")
    if value != 0 and value.adjusted() >= MAX_WHOLE_DIGITS:
        raise FieldError(f"too large (at most {MAX_WHOLE_DIGITS} digits before the point)")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
        value = tidy(value.quantize(Decimal(1).scaleb(-MAX_DECIMALS), rounding=ROUND_HALF_EVEN))
    return value


def tidy(value: Decimal) -> Decimal:
    """The same number with no trailing zeros and no exponent: 0.3000 -> 0.3, 1E+2 -> 100."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    return normal.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else normal


def iso_date(raw: str, today: date) -> date:
    """``"2024-03-15"`` (exactly YYYY-MM-DD) between :data:`EARLIEST` and ``today``."""
    text = raw.strip()
    if not _ISO_DATE.match(text):
        raise FieldError(f"expected a date as YYYY-MM-DD (got {raw!r})")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise FieldError(f"no such date (got {raw!r})") from None
    return in_range(day, today)


def in_range(day: date, today: date) -> date:
    if day > today:
        raise FieldError(f"{day.isoformat()} is in the future (today is {today.isoformat()})")
    if day < EARLIEST:
        raise FieldError(f"{day.isoformat()} is before {EARLIEST.isoformat()}")
    return day


def currency(raw: str) -> str:
    """An ISO 4217 code, upper-cased: ``"usd"`` -> ``"USD"``."""
    code = raw.strip().upper()
    if not is_currency(code):
        raise FieldError(f"expected a three-letter currency code such as USD (got {raw!r})")
    return code


def symbol(raw: str) -> str:
    text = raw.strip()
    if not _SYMBOL.match(text):
        raise FieldError(
            f"expected a ticker such as VTI or BRK.B (letters, digits, . - _ : = ^ / &; "
            f"at most 64; got {raw!r})"
        )
    return text


def account(raw: str) -> str:
    text = raw.strip()
    if not _ACCOUNT.match(text):
        raise FieldError(
            f"expected an account id such as 'brokerage' (letters, digits, . _ -; "
            f"at most 64; got {raw!r})"
        )
    return text


def note(raw: str) -> str:
    if len(raw) > MAX_NOTE:
        raise FieldError(f"longer than {MAX_NOTE} characters")
    if any(ord(char) < 32 and char not in "\t\n\r" for char in raw):
        raise FieldError("contains control characters")
    return raw


def transaction_type(raw: str) -> TransactionType:
    try:
        return TransactionType(raw.strip().upper())
    except ValueError:
        known = ", ".join(TransactionType)
        raise FieldError(f"unknown type {raw!r}; expected one of {known}") from None


def transaction_faults(transaction: Transaction) -> list[tuple[str, str]]:
    """(field, message) for each rule the whole transaction breaks, whatever its format."""
    faults = []
    kind = transaction.type
    if kind in NEEDS_SYMBOL and not transaction.symbol:
        faults.append(("symbol", f"a {kind} needs the instrument's symbol"))
    if kind in NO_SYMBOL and transaction.symbol:
        faults.append(("symbol", f"a {kind} moves cash only: leave the symbol empty"))
    if transaction.quantity <= 0:
        faults.append(("quantity", "must be more than 0 (cash moves use 1)"))
    return faults
