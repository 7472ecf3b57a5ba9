"""Alex's CSVs for what transactions refer to: accounts, instruments (with classification
weights) and FX rates. Layouts in docs/portfolio.md ("Importing and exporting")."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import TypeVar

from alex.portfolio.formats import fields
from alex.portfolio.formats.alex_csv import plain
from alex.portfolio.formats.csv_table import Row, records, write
from alex.portfolio.formats.problems import CellError, Problems
from alex.portfolio.model import (
    HUNDRED,
    UNKNOWN,
    Account,
    AccountKind,
    FxRate,
    Instrument,
    InstrumentType,
    Weights,
)

ACCOUNT_HEADER = ("id", "name", "kind", "currency")
INSTRUMENT_HEADER = ("symbol", "name", "type", "currency", "asset_class", "region", "sector")
FX_HEADER = ("date", "base", "quote", "rate")
E = TypeVar("E", AccountKind, InstrumentType)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9_ -]{0,39}$")


# The column a user writes free text in: formula-guarded on export (csv_table.guard).
_USER_TEXT = ("name",)


def parse_accounts(text: str) -> list[Account]:
    problems = Problems("accounts CSV")
    seen: dict[str, int] = {}

    def build(row: Row) -> Account:
        account_id = row.cell("id", fields.account)
        if seen.setdefault(account_id, row.number) != row.number:
            raise CellError("id", f"{account_id!r} already defined in row {seen[account_id]}")
        return Account(
            id=account_id,
            name=row.cell("name", _name),
            kind=row.cell("kind", lambda raw: _choice(AccountKind, raw)),
            currency=row.cell("currency", fields.currency),
        )

    found = records(text, ACCOUNT_HEADER, build, problems, text_columns=_USER_TEXT)
    problems.raise_any()
    return found


def dump_accounts(accounts: Iterable[Account]) -> str:
    return write(
        ACCOUNT_HEADER,
        ((a.id, a.name, a.kind.value, a.currency) for a in accounts),
        text_columns=_USER_TEXT,
    )


def parse_instruments(text: str) -> list[Instrument]:
    """Instruments with their weights: a weights cell is ``bucket:percent`` pairs joined by
    ``;`` summing to exactly 100 (``us:60;europe:40``), or empty / ``unknown``."""
    problems = Problems("instruments CSV")
    seen: dict[str, int] = {}

    def build(row: Row) -> Instrument:
        symbol = row.cell("symbol", fields.symbol)
        if seen.setdefault(symbol, row.number) != row.number:
            raise CellError("symbol", f"{symbol!r} already defined in row {seen[symbol]}")
        return Instrument(
            symbol=symbol,
            name=row.cell("name", _name),
            type=row.cell("type", lambda raw: _choice(InstrumentType, raw)),
            currency=row.cell("currency", fields.currency),
            asset_class=row.cell("asset_class", weights),
            region=row.cell("region", weights),
            sector=row.cell("sector", weights),
        )

    found = records(text, INSTRUMENT_HEADER, build, problems, text_columns=_USER_TEXT)
    problems.raise_any()
    return found


def dump_instruments(instruments: Iterable[Instrument]) -> str:
    return write(
        INSTRUMENT_HEADER,
        (
            (
                i.symbol,
                i.name,
                i.type.value,
                i.currency,
                weights_text(i.asset_class),
                weights_text(i.region),
                weights_text(i.sector),
            )
            for i in instruments
        ),
        text_columns=_USER_TEXT,
    )


def weights(raw: str) -> Weights:
    text = raw.strip()
    if not text or text.lower() == UNKNOWN:
        return Weights()
    shares: dict[str, Decimal] = {}
    for part in text.split(";"):
        bucket, colon, share = part.partition(":")
        bucket = bucket.strip().lower()
        if not colon or not _BUCKET.match(bucket):
            raise fields.FieldError(f"expected bucket:percent pairs joined by ';' (got {part!r})")
        if bucket in shares:
            raise fields.FieldError(f"{bucket!r} given twice")
        shares[bucket] = fields.number(share)
    total = sum(shares.values(), Decimal(0))
    if total != HUNDRED:
        raise fields.FieldError(f"shares sum to {total}, not 100 (or write 'unknown')")
    return Weights(shares)


def weights_text(value: Weights) -> str:
    if not value.known:
        return UNKNOWN
    return ";".join(f"{bucket}:{plain(share)}" for bucket, share in value.shares.items())


def parse_fx(text: str, *, today: date) -> list[FxRate]:
    """FX rates: on ``date``, 1 ``base`` = ``rate`` ``quote``."""
    problems = Problems("FX CSV")

    def build(row: Row) -> FxRate:
        rate = FxRate(
            date=row.cell("date", lambda raw: fields.iso_date(raw, today)),
            base=row.cell("base", fields.currency),
            quote=row.cell("quote", fields.currency),
            rate=row.cell("rate", fields.number),
        )
        if rate.base == rate.quote:
            raise CellError("quote", "the same currency as base")
        if rate.rate == 0:
            raise CellError("rate", "must be more than 0")
        return rate

    found = records(text, FX_HEADER, build, problems)
    problems.raise_any()
    return found


def dump_fx(rates: Iterable[FxRate]) -> str:
    return write(FX_HEADER, ((r.date.isoformat(), r.base, r.quote, plain(r.rate)) for r in rates))


def _name(raw: str) -> str:
    text = raw.strip()
    if not text or len(text) > 200:
        raise fields.FieldError("expected a name of 1 to 200 characters")
    return text


def _choice(kind: type[E], raw: str) -> E:
    try:
        return kind(raw.strip().lower())
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise fields.FieldError(f"unknown {raw!r}; expected one of {known}") from None
