"""Alex's own CSVs: transactions and prices. Text in, records out, and back.

Transactions: ``date,account,type,symbol,quantity,unit_price,fee,currency,note``; prices:
``date,symbol,close,currency``. The layouts and every rule are in docs/portfolio.md
("Importing and exporting")."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from decimal import Decimal

from alex.portfolio.formats import fields
from alex.portfolio.formats.csv_table import Row, records, write
from alex.portfolio.formats.problems import CellError, Problems
from alex.portfolio.model import Price, Transaction, TransactionType

TRANSACTION_HEADER = (
    "date",
    "account",
    "type",
    "symbol",
    "quantity",
    "unit_price",
    "fee",
    "currency",
    "note",
)
PRICE_HEADER = ("date", "symbol", "close", "currency")
# Cash moves carry their amount as the unit price of one unit: the quantity may be left blank.
_CASH_MOVES = frozenset(TransactionType) - fields.NEEDS_SYMBOL
_ONE = Decimal(1)
_ZERO = Decimal(0)


# The column a user writes free text in: formula-guarded on export (csv_table.guard).
_USER_TEXT = ("note",)
TRANSACTION_TEXT = _USER_TEXT  # the user's text among the columns: formula-guarded


def parse_transactions(
    text: str, *, today: date, accounts: Collection[str] | None = None
) -> list[Transaction]:
    """Every transaction of an Alex CSV, in file order, or :class:`FormatError` naming each
    faulty row and column (none of the file is returned then). ``today`` bounds the dates;
    ``accounts``, when given, are the only account ids accepted."""
    problems = Problems("transactions CSV")

    def build(row: Row) -> Transaction:
        # Checked in column order, so the fault named is the leftmost.
        day = row.cell("date", lambda raw: fields.iso_date(raw, today))
        account = row.cell("account", fields.account)
        if accounts is not None and account not in accounts:
            known = ", ".join(sorted(accounts)) or "none yet"
            raise CellError("account", f"unknown account {account!r} (known: {known})")
        kind = row.cell("type", fields.transaction_type)
        symbol = row.cell("symbol", _optional_symbol)
        blank_quantity = kind in _CASH_MOVES and not row.values["quantity"].strip()
        transaction = Transaction(
            date=day,
            account=account,
            type=kind,
            symbol=symbol,
            quantity=_ONE if blank_quantity else row.cell("quantity", fields.number),
            unit_price=row.cell("unit_price", fields.number),
            fee=row.cell("fee", _optional_number),
            currency=row.cell("currency", fields.currency),
            note=row.cell("note", fields.note),
        )
        for field, message in fields.transaction_faults(transaction):
            raise CellError(field, message)
        return transaction

    found = records(text, TRANSACTION_HEADER, build, problems, text_columns=_USER_TEXT)
    problems.raise_any()
    return found


def dump_transactions(transactions: Iterable[Transaction]) -> str:
    """An Alex CSV that :func:`parse_transactions` reads back to the same transactions."""
    return write(
        TRANSACTION_HEADER,
        (
            (
                t.date.isoformat(),
                t.account,
                t.type.value,
                t.symbol or "",
                plain(t.quantity),
                plain(t.unit_price),
                plain(t.fee),
                t.currency,
                t.note,
            )
            for t in transactions
        ),
        text_columns=_USER_TEXT,
    )


def parse_prices(text: str, *, today: date) -> list[Price]:
    """Every closing price of a prices CSV, in file order. A symbol and date given twice with
    different closes is a fault (which one is true?); the same close twice is kept once."""
    problems = Problems("prices CSV")
    first_row: dict[tuple[str, date], tuple[int, Decimal]] = {}

    def build(row: Row) -> Price:
        price = Price(
            date=row.cell("date", lambda raw: fields.iso_date(raw, today)),
            symbol=row.cell("symbol", fields.symbol),
            close=row.cell("close", fields.number),
            currency=row.cell("currency", fields.currency),
        )
        if price.close == 0:
            raise CellError("close", "must be more than 0")
        seen = first_row.setdefault((price.symbol, price.date), (row.number, price.close))
        if seen[1] != price.close:
            clash = f"{price.symbol} on {price.date} already has close {seen[1]} (row {seen[0]})"
            raise CellError("close", clash)
        return price

    found = records(text, PRICE_HEADER, build, problems)
    problems.raise_any()
    unique: dict[tuple[str, date], Price] = {}
    for price in found:
        unique.setdefault((price.symbol, price.date), price)
    return list(unique.values())


def dump_prices(prices: Iterable[Price]) -> str:
    return write(
        PRICE_HEADER,
        ((p.date.isoformat(), p.symbol, plain(p.close), p.currency) for p in prices),
    )


def plain(value: Decimal) -> str:
    """A decimal as written in the files: no exponent (``1E+2`` is ``100``)."""
    return format(value, "f")


def _optional_symbol(raw: str) -> str | None:
    return fields.symbol(raw) if raw.strip() else None


def _optional_number(raw: str) -> Decimal:
    return fields.number(raw) if raw.strip() else _ZERO
