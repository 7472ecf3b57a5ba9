"""The local :class:`~alex.ports.PortfolioStore`: tables in Alex's SQLite file.

Same file and discipline as the documents (``sqlite_file``): WAL with full sync, every write
in one ``BEGIN IMMEDIATE`` transaction, so an import commits whole or not at all. Money and
quantities are TEXT (``str(Decimal)``: exact, read back digit for digit), dates ISO
``YYYY-MM-DD`` (which sort as dates), weights JSON objects of decimal strings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from alex.adapters import portfolio_checks as checks
from alex.adapters.sqlite_file import SqliteTables
from alex.domain.errors import InvalidInputError
from alex.portfolio.model import (
    Account,
    AccountKind,
    FxRate,
    Instrument,
    InstrumentType,
    PortfolioSettings,
    Price,
    ProjectionDefaults,
    RecordedTransaction,
    Transaction,
    TransactionType,
    Weights,
)

PORTFOLIO_SCHEMA = """
CREATE TABLE IF NOT EXISTS portfolio_accounts (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, currency TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS portfolio_instruments (
    symbol TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, currency TEXT NOT NULL,
    asset_class TEXT NOT NULL, region TEXT NOT NULL, sector TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS portfolio_transactions (
    id TEXT PRIMARY KEY,
    date TEXT NOT NULL,
    account TEXT NOT NULL REFERENCES portfolio_accounts(id),
    type TEXT NOT NULL,
    symbol TEXT,
    quantity TEXT NOT NULL,
    unit_price TEXT NOT NULL,
    fee TEXT NOT NULL,
    currency TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS portfolio_transactions_by_date ON portfolio_transactions(date, id);
CREATE INDEX IF NOT EXISTS portfolio_transactions_by_account
    ON portfolio_transactions(account, date, id);
CREATE TABLE IF NOT EXISTS portfolio_prices (
    symbol TEXT NOT NULL, date TEXT NOT NULL, close TEXT NOT NULL, currency TEXT NOT NULL,
    PRIMARY KEY (symbol, date)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS portfolio_fx_rates (
    base TEXT NOT NULL, quote TEXT NOT NULL, date TEXT NOT NULL, rate TEXT NOT NULL,
    PRIMARY KEY (base, quote, date)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS portfolio_targets (dimension TEXT PRIMARY KEY, weights TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS portfolio_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    base_currency TEXT NOT NULL,
    monthly_spending TEXT,
    stale_price_days INTEGER NOT NULL,
    risk_thresholds TEXT NOT NULL,
    projection TEXT NOT NULL DEFAULT '{}'
);
"""
# Columns added after the first release, with their definitions: a file made before them
# gets them on open (CREATE TABLE IF NOT EXISTS leaves an existing table as it is).
_ADDED_COLUMNS = {("portfolio_settings", "projection"): "TEXT NOT NULL DEFAULT '{}'"}


def weights_json(weights: Weights) -> str:
    return json.dumps({bucket: str(share) for bucket, share in weights.shares.items()})


def weights_from_json(text: str) -> Weights:
    return Weights({bucket: Decimal(share) for bucket, share in json.loads(text).items()})


def _transaction_row(entry: RecordedTransaction) -> tuple[str | None, ...]:
    t = entry.transaction
    return (
        entry.id,
        t.date.isoformat(),
        t.account,
        t.type.value,
        t.symbol,
        str(t.quantity),
        str(t.unit_price),
        str(t.fee),
        t.currency,
        t.note,
    )


def _transaction(row: Sequence[Any]) -> RecordedTransaction:
    return RecordedTransaction(
        row[0],
        Transaction(
            date=date.fromisoformat(row[1]),
            account=row[2],
            type=TransactionType(row[3]),
            symbol=row[4],
            quantity=Decimal(row[5]),
            unit_price=Decimal(row[6]),
            fee=Decimal(row[7]),
            currency=row[8],
            note=row[9],
        ),
    )


def _account(row: Sequence[Any]) -> Account:
    return Account(row[0], row[1], AccountKind(row[2]), row[3])


def _instrument(row: Sequence[Any]) -> Instrument:
    return Instrument(
        symbol=row[0],
        name=row[1],
        type=InstrumentType(row[2]),
        currency=row[3],
        asset_class=weights_from_json(row[4]),
        region=weights_from_json(row[5]),
        sector=weights_from_json(row[6]),
    )


def _price(row: Sequence[Any]) -> Price:
    return Price(row[0], date.fromisoformat(row[1]), Decimal(row[2]), row[3])


def _rate(row: Sequence[Any]) -> FxRate:
    return FxRate(date.fromisoformat(row[0]), row[1], row[2], Decimal(row[3]))


class SqlitePortfolioStore(SqliteTables):
    """The portfolio's tables in the SQLite file at ``path`` (the documents' file)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, PORTFOLIO_SCHEMA, "the portfolio store")
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        for (table, column), definition in _ADDED_COLUMNS.items():
            present = {row[1] for row in self._read(f"PRAGMA table_info({table})")}
            if column not in present:
                with self._writing() as db:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    # Accounts and instruments -----------------------------------------------------------
    def put_account(self, account: Account) -> None:
        checks.check_account(account)
        with self._writing() as db:
            # An upsert, not INSERT OR REPLACE: a replace deletes the row its transactions
            # reference.
            db.execute(
                "INSERT INTO portfolio_accounts(id, name, kind, currency) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind,"
                " currency = excluded.currency",
                (account.id, account.name, account.kind.value, account.currency),
            )

    def get_account(self, account_id: str) -> Account | None:
        rows = self._read(
            "SELECT id, name, kind, currency FROM portfolio_accounts WHERE id = ?", (account_id,)
        )
        return _account(rows[0]) if rows else None

    def list_accounts(self) -> list[Account]:
        rows = self._read("SELECT id, name, kind, currency FROM portfolio_accounts ORDER BY id")
        return [_account(row) for row in rows]

    def delete_account(self, account_id: str) -> bool:
        with self._writing() as db:
            # Counted in the write transaction: no import can add one between count and delete.
            sql = "SELECT COUNT(*) FROM portfolio_transactions WHERE account = ?"
            (used,) = db.execute(sql, (account_id,)).fetchone()
            checks.check_account_unused(account_id, int(used))
            sql = "DELETE FROM portfolio_accounts WHERE id = ?"
            return bool(db.execute(sql, (account_id,)).rowcount)

    def put_instrument(self, instrument: Instrument) -> None:
        checks.check_instrument(instrument)
        with self._writing() as db:
            db.execute(
                "INSERT OR REPLACE INTO portfolio_instruments"
                "(symbol, name, type, currency, asset_class, region, sector)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    instrument.symbol,
                    instrument.name,
                    instrument.type.value,
                    instrument.currency,
                    weights_json(instrument.asset_class),
                    weights_json(instrument.region),
                    weights_json(instrument.sector),
                ),
            )

    def get_instrument(self, symbol: str) -> Instrument | None:
        rows = self._read(
            "SELECT symbol, name, type, currency, asset_class, region, sector"
            " FROM portfolio_instruments WHERE symbol = ?",
            (symbol,),
        )
        return _instrument(rows[0]) if rows else None

    def list_instruments(self) -> list[Instrument]:
        rows = self._read(
            "SELECT symbol, name, type, currency, asset_class, region, sector"
            " FROM portfolio_instruments ORDER BY symbol"
        )
        return [_instrument(row) for row in rows]

    # Transactions -----------------------------------------------------------------------
    def add_transactions(self, entries: Sequence[RecordedTransaction]) -> int:
        with self._writing() as db:
            # Checked inside the transaction: the accounts cannot change under the check.
            accounts = {row[0] for row in db.execute("SELECT id FROM portfolio_accounts")}
            unique = checks.check_transactions(entries, accounts)
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO portfolio_transactions(id, date, account, type, symbol,"
                " quantity, unit_price, fee, currency, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_transaction_row(entry) for entry in unique],
            )
            return int(db.total_changes - before)

    def list_transactions(
        self, account: str | None = None, start: date | None = None, end: date | None = None
    ) -> list[RecordedTransaction]:
        # A filter left as NULL matches every row.
        rows = self._read(
            "SELECT id, date, account, type, symbol, quantity, unit_price, fee, currency, note"
            " FROM portfolio_transactions WHERE (?1 IS NULL OR account = ?1)"
            " AND (?2 IS NULL OR date >= ?2) AND (?3 IS NULL OR date <= ?3) ORDER BY date, id",
            (account, start.isoformat() if start else None, end.isoformat() if end else None),
        )
        return [_transaction(row) for row in rows]

    def delete_transaction(self, transaction_id: str) -> bool:
        with self._writing() as db:
            sql = "DELETE FROM portfolio_transactions WHERE id = ?"
            return bool(db.execute(sql, (transaction_id,)).rowcount)

    def replace_transaction(self, transaction_id: str, entry: RecordedTransaction) -> bool:
        with self._writing() as db:
            accounts = {row[0] for row in db.execute("SELECT id FROM portfolio_accounts")}
            checks.check_transactions([entry], accounts)
            sql = "DELETE FROM portfolio_transactions WHERE id = ?"
            if not db.execute(sql, (transaction_id,)).rowcount:
                return False
            if db.execute(
                "SELECT 1 FROM portfolio_transactions WHERE id = ?", (entry.id,)
            ).fetchone():
                # Raised inside the write: the delete above is rolled back with it.
                raise InvalidInputError(f"transaction {entry.id!r} is stored already")
            db.execute(
                "INSERT INTO portfolio_transactions(id, date, account, type, symbol,"
                " quantity, unit_price, fee, currency, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _transaction_row(entry),
            )
            return True

    # Prices and FX rates ----------------------------------------------------------------
    def put_prices(self, prices: Sequence[Price]) -> None:
        checked = checks.check_all(prices, checks.check_price, "price")
        with self._writing() as db:
            db.executemany(
                "INSERT OR REPLACE INTO portfolio_prices(symbol, date, close, currency)"
                " VALUES (?, ?, ?, ?)",
                [(p.symbol, p.date.isoformat(), str(p.close), p.currency) for p in checked],
            )

    def last_price(self, symbol: str, on: date) -> Price | None:
        rows = self._read(
            "SELECT symbol, date, close, currency FROM portfolio_prices"
            " WHERE symbol = ? AND date <= ? ORDER BY date DESC LIMIT 1",
            (symbol, on.isoformat()),
        )
        return _price(rows[0]) if rows else None

    def list_prices(self, symbol: str) -> list[Price]:
        rows = self._read(
            "SELECT symbol, date, close, currency FROM portfolio_prices"
            " WHERE symbol = ? ORDER BY date",
            (symbol,),
        )
        return [_price(row) for row in rows]

    def put_fx_rates(self, rates: Sequence[FxRate]) -> None:
        checked = checks.check_all(rates, checks.check_fx_rate, "FX rate")
        with self._writing() as db:
            db.executemany(
                "INSERT OR REPLACE INTO portfolio_fx_rates(date, base, quote, rate)"
                " VALUES (?, ?, ?, ?)",
                [(r.date.isoformat(), r.base, r.quote, str(r.rate)) for r in checked],
            )

    def last_fx_rate(self, base: str, quote: str, on: date) -> FxRate | None:
        rows = self._read(
            "SELECT date, base, quote, rate FROM portfolio_fx_rates"
            " WHERE base = ? AND quote = ? AND date <= ? ORDER BY date DESC LIMIT 1",
            (base, quote, on.isoformat()),
        )
        return _rate(rows[0]) if rows else None

    def list_fx_rates(self, base: str, quote: str) -> list[FxRate]:
        rows = self._read(
            "SELECT date, base, quote, rate FROM portfolio_fx_rates"
            " WHERE base = ? AND quote = ? ORDER BY date",
            (base, quote),
        )
        return [_rate(row) for row in rows]

    # Targets and settings ---------------------------------------------------------------
    def put_target(self, dimension: str, weights: Weights) -> None:
        checks.check_target(dimension, weights)
        with self._writing() as db:
            if weights.known:
                db.execute(
                    "INSERT OR REPLACE INTO portfolio_targets(dimension, weights) VALUES (?, ?)",
                    (dimension, weights_json(weights)),
                )
            else:
                db.execute("DELETE FROM portfolio_targets WHERE dimension = ?", (dimension,))

    def targets(self) -> dict[str, Weights]:
        rows = self._read("SELECT dimension, weights FROM portfolio_targets ORDER BY dimension")
        return {row[0]: weights_from_json(row[1]) for row in rows}

    def get_settings(self) -> PortfolioSettings:
        rows = self._read(
            "SELECT base_currency, monthly_spending, stale_price_days, risk_thresholds,"
            " projection FROM portfolio_settings WHERE id = 1"
        )
        if not rows:
            return PortfolioSettings()
        base, spending, days, thresholds, projection = rows[0]
        return PortfolioSettings(
            base_currency=base,
            monthly_spending=None if spending is None else Decimal(spending),
            stale_price_days=int(days),
            risk_thresholds={rule: Decimal(v) for rule, v in json.loads(thresholds).items()},
            projection=ProjectionDefaults.from_text(json.loads(projection)),
        )

    def put_settings(self, settings: PortfolioSettings) -> None:
        checks.check_settings(settings)
        spending = settings.monthly_spending
        thresholds = {rule: str(value) for rule, value in settings.risk_thresholds.items()}
        with self._writing() as db:
            db.execute(
                "INSERT OR REPLACE INTO portfolio_settings(id, base_currency, monthly_spending,"
                " stale_price_days, risk_thresholds, projection) VALUES (1, ?, ?, ?, ?, ?)",
                (
                    settings.base_currency,
                    None if spending is None else str(spending),
                    settings.stale_price_days,
                    json.dumps(thresholds),
                    json.dumps(settings.projection.as_text()),
                ),
            )
