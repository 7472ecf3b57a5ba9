"""Importing and exporting the portfolio's files: the use cases behind ``alex portfolio
import``/``export`` and ``alex prices``, on the :class:`~alex.ports.PortfolioStore` port.

Imports are all-or-nothing per call: every file of a call is parsed and checked (formats,
known accounts, FX rates for every currency a transaction is in, then the whole ledger
replayed with the new transactions, so a sale of more than is held is refused) before
anything is written. Writes then go in dependency order: accounts, instruments, FX rates,
prices, transactions (each transaction batch is one atomic store write). Re-importing adds
nothing: transactions carry stable ids (:mod:`alex.portfolio.formats.ids`), and the other
records are keyed (an account by id, an instrument by symbol, a price by symbol and day, a
rate by pair and day).

Ghostfolio's account balances are matched against the store: each becomes at most one DEPOSIT
(or WITHDRAWAL) on its day, of the balance less the cash the account holds that day once the
call's transactions join the stored ones, in the same atomic write (docs/portfolio.md, "Cash
balances"). So a re-import, or a newer export that counts deposits made in Alex, adds only
what the store lacks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from alex.domain.errors import InvalidInputError, NotFoundError
from alex.portfolio.formats import fields
from alex.portfolio.formats.alex_csv import (
    PRICE_HEADER,
    TRANSACTION_HEADER,
    TRANSACTION_TEXT,
    dump_prices,
    dump_transactions,
    parse_prices,
    parse_transactions,
)
from alex.portfolio.formats.csv_table import rows, write
from alex.portfolio.formats.ghostfolio import (
    Balance,
    balance_adjustment,
    dump_ghostfolio,
    parse_ghostfolio,
)
from alex.portfolio.formats.ids import transaction_id, transaction_ids
from alex.portfolio.formats.problems import FormatError, Problem, Problems
from alex.portfolio.formats.reference_csv import (
    ACCOUNT_HEADER,
    FX_HEADER,
    INSTRUMENT_HEADER,
    dump_accounts,
    dump_fx,
    dump_instruments,
    parse_accounts,
    parse_fx,
    parse_instruments,
)
from alex.portfolio.holdings import ledger
from alex.portfolio.model import (
    TRADES,
    Account,
    FxRate,
    Instrument,
    PortfolioSettings,
    Price,
    RecordedTransaction,
    Transaction,
    TransactionType,
)
from alex.ports import PortfolioStore

K = TypeVar("K")
R = TypeVar("R")


class FileKind(StrEnum):
    """What a file holds; Alex's CSVs say it in their header, Ghostfolio's JSON holds
    transactions (and the accounts they are in)."""

    ACCOUNTS = "accounts"
    INSTRUMENTS = "instruments"
    FX = "fx"
    PRICES = "prices"
    TRANSACTIONS = "transactions"


class ImportFormat(StrEnum):
    ALEX = "alex"
    GHOSTFOLIO = "ghostfolio"
    AUTO = "auto"


# The order a multi-file import writes in: what a record refers to is stored before it.
_WRITE_ORDER = tuple(FileKind)
_HEADERS = {
    ",".join(ACCOUNT_HEADER): FileKind.ACCOUNTS,
    ",".join(INSTRUMENT_HEADER): FileKind.INSTRUMENTS,
    ",".join(FX_HEADER): FileKind.FX,
    ",".join(PRICE_HEADER): FileKind.PRICES,
    ",".join(TRANSACTION_HEADER): FileKind.TRANSACTIONS,
}


def detect(text: str) -> tuple[ImportFormat, FileKind]:
    """A JSON object is Ghostfolio's transactions; a CSV is named by its header line. A file
    neither is :class:`InvalidInputError` listing the headers Alex reads."""
    body = text.removeprefix("\ufeff").lstrip()
    if body.startswith("{"):
        return ImportFormat.GHOSTFOLIO, FileKind.TRANSACTIONS
    first = body.split("\n", 1)[0].strip()
    header = ",".join(name.strip() for name in first.split(","))
    if header in _HEADERS:
        return ImportFormat.ALEX, _HEADERS[header]
    known = "; ".join(f"{kind}: {line!r}" for line, kind in _HEADERS.items())
    raise InvalidInputError(
        f"not a file Alex imports: expected Ghostfolio's JSON or a CSV with one of these "
        f"headers ({known}); got the first line {first[:200]!r}"
    )


@dataclass(frozen=True)
class ImportReport:
    """What one file did. ``new`` records were not stored before; ``unchanged`` were stored
    already, as they are (a re-import: ``new == 0``); ``updated`` replaced a stored record
    of the same key with other contents (an account renamed, a price corrected; never a
    transaction, whose id is its contents). ``accounts`` and ``instruments`` are the ids and
    symbols the file defines or its transactions use; ``unclassified``, the symbols traded
    with no instrument on record (they show as unknown in every allocation)."""

    name: str
    format: ImportFormat
    kind: FileKind
    records: int
    new: int
    unchanged: int
    updated: int = 0
    accounts: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    unclassified: tuple[str, ...] = ()

    @property
    def duplicates(self) -> int:
        """Transactions (or records) already stored: what a re-import skips."""
        return self.unchanged


@dataclass(frozen=True)
class FilePreview:
    """What importing one file would do (:meth:`PortfolioFiles.preview`): its report, counted
    against the store as the import counts (``new``, ``unchanged`` = duplicates, ``updated``),
    and the transactions it would add, in file order."""

    report: ImportReport
    added: tuple[Transaction, ...] = ()


@dataclass
class _Parsed:
    """One file, parsed and checked, waiting to be written."""

    name: str
    format: ImportFormat
    kind: FileKind
    accounts: list[Account] = field(default_factory=list)
    instruments: list[Instrument] = field(default_factory=list)
    fx: list[FxRate] = field(default_factory=list)
    prices: list[Price] = field(default_factory=list)
    transactions: list[RecordedTransaction] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)  # Ghostfolio's, to match the store
    adjusted: list[str] = field(default_factory=list)  # where each balance adjustment came from
    text: str = ""  # kept to name a transaction's row when a later check refuses it


class PortfolioFiles:
    """Imports and exports on one store. ``today`` bounds imported dates."""

    def __init__(self, store: PortfolioStore, today: Callable[[], date] = date.today) -> None:
        self.store = store
        self._today = today

    # --- importing ------------------------------------------------------------------------
    def import_file(
        self, text: str, format: ImportFormat | str = ImportFormat.AUTO, name: str = "file"
    ) -> ImportReport:
        """Import one file (transactions in Alex's CSV or Ghostfolio's JSON, or one of Alex's
        accounts, instruments, FX or prices CSVs when ``format`` is alex or auto)."""
        return self.import_files([(name, text)], format)[0]

    def import_files(
        self,
        files: Sequence[tuple[str, str]],
        format: ImportFormat | str = ImportFormat.AUTO,
        kind: FileKind | None = None,
    ) -> list[ImportReport]:
        """Import ``(name, text)`` files together: all parsed and checked first (one bad file
        imports none; the error names the file, row and field), then written accounts first.
        Reports come back in the order given. ``kind`` forces what every file must hold."""
        chosen = ImportFormat(format)
        return self._import([(name, text, chosen, kind) for name, text in files])

    def preview(
        self,
        files: Sequence[tuple[str, str]],
        format: ImportFormat | str = ImportFormat.AUTO,
        kind: FileKind | None = None,
    ) -> list[FilePreview]:
        """What :meth:`import_files` would do with the same arguments, storing nothing: the
        same parsing and checks (the same errors: a bad row is a :class:`FormatError` naming
        its row and column), then each file's counts and the transactions it would add."""
        chosen = ImportFormat(format)
        parsed = self._checked([(name, text, chosen, kind) for name, text in files])
        stored = (
            {entry.id for entry in self.store.list_transactions()}
            if any(item.transactions for item in parsed)
            else set()
        )
        # What the call's other files would have stored first (write order) by then.
        instruments = {i.symbol for item in parsed for i in item.instruments}
        previews = []
        for item in parsed:
            fresh = [entry for entry in item.transactions if entry.id not in stored]
            report = self._write(item, dry_run=True, also_known=instruments)
            added = tuple({entry.id: entry.transaction for entry in fresh}.values())
            previews.append(
                FilePreview(
                    dataclasses.replace(
                        report, new=len(added), unchanged=len(item.transactions) - len(added)
                    )
                    if item.transactions
                    else report,
                    added,
                )
            )
        return previews

    def save_transaction(
        self, values: Mapping[str, str], replaces: str | None = None, name: str = "transaction"
    ) -> RecordedTransaction:
        """Add one transaction given as the text of the columns of Alex's transactions CSV
        (a form's fields), or, with ``replaces``, edit that stored one. It is checked exactly
        as a one-row import is (a bad field is a :class:`FormatError` whose problem names
        that column; the ledger replayed with it, without the one it replaces), then stored
        in one atomic write (an edit is the store's ``replace_transaction``: a changed
        transaction is another id). Two equal purchases on one day are two transactions:
        the new one takes the next free occurrence of its id (:mod:`~.formats.ids`)."""
        stored = {entry.id for entry in self.store.list_transactions()}
        if replaces is not None and replaces not in stored:
            raise NotFoundError(f"no transaction with id {replaces!r}")
        row = [values.get(column, "") for column in TRANSACTION_HEADER]
        text = write(TRANSACTION_HEADER, [row], text_columns=TRANSACTION_TEXT)
        files = [(name, text, ImportFormat.ALEX, FileKind.TRANSACTIONS)]
        (item,) = self._checked(files, without=replaces)
        (entry,) = item.transactions
        taken = stored - {replaces} if replaces is not None else stored
        occurrence = 0
        while transaction_id(entry.transaction, occurrence) in taken:
            occurrence += 1
        entry = RecordedTransaction(
            transaction_id(entry.transaction, occurrence), entry.transaction
        )
        if replaces is None:
            self.store.add_transactions([entry])
        elif not self.store.replace_transaction(replaces, entry):
            raise NotFoundError(f"no transaction with id {replaces!r}")
        return entry

    def import_prices(self, text: str, name: str = "prices") -> ImportReport:
        """Closing prices in Alex's ``date,symbol,close,currency`` CSV."""
        return self._import([(name, text, ImportFormat.ALEX, FileKind.PRICES)])[0]

    def import_reference(
        self, *, accounts: str | None = None, instruments: str | None = None, fx: str | None = None
    ) -> list[ImportReport]:
        """Accounts, instruments and FX rates CSVs, together (any may be left out)."""
        given = (
            (FileKind.ACCOUNTS, accounts),
            (FileKind.INSTRUMENTS, instruments),
            (FileKind.FX, fx),
        )
        return self._import(
            [
                (kind.value, text, ImportFormat.ALEX, kind)
                for kind, text in given
                if text is not None
            ]
        )

    def _import(
        self, files: Sequence[tuple[str, str, ImportFormat, FileKind | None]]
    ) -> list[ImportReport]:
        parsed = self._checked(files)
        reports: dict[int, ImportReport] = {}
        for index in sorted(range(len(parsed)), key=lambda i: _WRITE_ORDER.index(parsed[i].kind)):
            reports[index] = self._write(parsed[index])
        return [reports[index] for index in range(len(parsed))]

    def _checked(
        self,
        files: Sequence[tuple[str, str, ImportFormat, FileKind | None]],
        without: str | None = None,
    ) -> list[_Parsed]:
        """Every file parsed and checked, nothing written: what an import, its preview and
        a form's transaction share (``without``: the stored transaction an edit replaces)."""
        today = self._today()
        detected = [
            (name, text, *self._kind_of(name, text, fmt, kind)) for name, text, fmt, kind in files
        ]
        # The accounts of this call count as known to the transactions of this call.
        known = {account.id for account in self.store.list_accounts()}
        for name, text, _, file_kind in detected:
            if file_kind is FileKind.ACCOUNTS:
                known.update(account.id for account in _accounts(name, text))
        parsed = [
            self._parse(name, text, fmt, file_kind, today, known)
            for name, text, fmt, file_kind in detected
        ]
        stored: dict[str, Transaction] = {}
        if any(item.transactions or item.balances for item in parsed):
            stored = {entry.id: entry.transaction for entry in self.store.list_transactions()}
            stored.pop(without or "", None)
        _adjust_balances(parsed, stored)
        self._check_ledger(parsed, stored)
        self._check_rates(parsed)
        return parsed

    def set_price(
        self, symbol: str, close: Decimal, currency: str, on: date | None = None
    ) -> Price:
        """Record one closing price (``on`` defaults to today); it replaces that day's."""
        try:
            price = Price(
                symbol=fields.symbol(symbol),
                date=fields.in_range(on or self._today(), self._today()),
                close=fields.bounded(close),
                currency=fields.currency(currency),
            )
        except fields.FieldError as error:
            raise InvalidInputError(f"price: {error}") from None
        if price.close == 0:
            raise InvalidInputError("price: close must be more than 0")
        self.store.put_prices([price])
        return price

    def _kind_of(
        self, name: str, text: str, format: ImportFormat, kind: FileKind | None
    ) -> tuple[ImportFormat, FileKind]:
        if format is ImportFormat.GHOSTFOLIO:
            found = (ImportFormat.GHOSTFOLIO, FileKind.TRANSACTIONS)
        else:
            try:
                found = detect(text)
            except InvalidInputError as error:
                if format is ImportFormat.ALEX and kind in (None, FileKind.TRANSACTIONS):
                    found = (ImportFormat.ALEX, FileKind.TRANSACTIONS)  # the parser says why
                else:
                    raise InvalidInputError(f"{name}: {error.message}") from None
            if format is ImportFormat.ALEX and found[0] is ImportFormat.GHOSTFOLIO:
                raise InvalidInputError(f"{name}: this is JSON; use the ghostfolio format")
        if kind is not None and found[1] is not kind:
            raise InvalidInputError(f"{name}: expected a {kind} file, this is a {found[1]} file")
        return found

    def _parse(
        self,
        name: str,
        text: str,
        format: ImportFormat,
        kind: FileKind,
        today: date,
        known: set[str],
    ) -> _Parsed:
        parsed = _Parsed(name, format, kind, text=text)
        try:
            if format is ImportFormat.GHOSTFOLIO:
                found = parse_ghostfolio(text, today=today, known_accounts=known)
                parsed.accounts = found.accounts
                parsed.transactions = _recorded(found.transactions)
                parsed.balances = found.balances
            elif kind is FileKind.TRANSACTIONS:
                transactions = parse_transactions(text, today=today, accounts=known)
                parsed.transactions = _recorded(transactions)
            elif kind is FileKind.ACCOUNTS:
                parsed.accounts = parse_accounts(text)
            elif kind is FileKind.INSTRUMENTS:
                parsed.instruments = parse_instruments(text)
            elif kind is FileKind.FX:
                parsed.fx = parse_fx(text, today=today)
            else:
                parsed.prices = parse_prices(text, today=today)
        except FormatError as error:
            raise FormatError(f"{name}: {error.what}", list(error.problems), error.more) from None
        except InvalidInputError as error:
            raise InvalidInputError(f"{name}: {error.message}") from None
        return parsed

    def _check_ledger(self, parsed: Sequence[_Parsed], stored: Mapping[str, Transaction]) -> None:
        """Replay the stored transactions with the new ones: a sale of more than is held, or
        a trade in another currency than its holding, is refused before anything is written."""
        if not any(item.transactions for item in parsed):
            return
        combined = _combined(stored, parsed)
        try:
            ledger(combined.values())
        except InvalidInputError as error:
            names = ", ".join(item.name for item in parsed if item.transactions)
            raise InvalidInputError(f"{names}: nothing imported. {error.message}") from None

    def _check_rates(self, parsed: Sequence[_Parsed]) -> None:
        """A transaction in another currency than its account's needs a rate between the two,
        stored or in the same import, directly or through other currencies (as the valuation
        converts); without one it could never be valued, so the import is refused by row."""
        accounts = {account.id: account.currency for account in self.store.list_accounts()}
        for item in parsed:
            for account in item.accounts:
                if item.format is not ImportFormat.GHOSTFOLIO or account.id not in accounts:
                    accounts[account.id] = account.currency  # as _write will store them
        foreign = [
            (item, index, entry.transaction)
            for item in parsed
            for index, entry in enumerate(item.transactions)
            if entry.transaction.currency
            != accounts.get(entry.transaction.account, entry.transaction.currency)
        ]
        if not foreign:
            return
        imported = [rate for item in parsed for rate in item.fx]
        extra = {t.currency for _, _, t in foreign} | {accounts[t.account] for _, _, t in foreign}
        pairs = {(rate.base, rate.quote) for rate in imported}
        stored_pairs = self.currency_pairs(
            [t for _, _, t in foreign], extra_currencies=extra | {c for pair in pairs for c in pair}
        )
        pairs.update(pair for pair in stored_pairs if self.store.list_fx_rates(*pair))
        for item, index, transaction in foreign:
            account_currency = accounts[transaction.account]
            if not _connected(transaction.currency, account_currency, pairs):
                message = (
                    f"{transaction.currency} differs from the currency of account "
                    f"{transaction.account!r} ({account_currency}) and no "
                    f"{transaction.currency}/{account_currency} rate is stored or in this "
                    "import; import an FX CSV (date,base,quote,rate) with it"
                )
                where = _locations(item)[index]
                raise FormatError(item.name, [Problem(where, "currency", message)])

    def _write(
        self, item: _Parsed, dry_run: bool = False, also_known: Collection[str] = ()
    ) -> ImportReport:
        """Store one parsed file and report what it changed; ``dry_run`` stores nothing and
        counts what would change (``also_known``: the instruments the same call stores
        first). A dry run's transaction counts are the preview's to make."""
        store = self.store

        def put(action: Callable[[R], None]) -> Callable[[R], None]:
            return _skip if dry_run else action

        report = ImportReport(item.name, item.format, item.kind, 0, 0, 0)
        if item.accounts:
            if item.format is ImportFormat.GHOSTFOLIO:
                # Alex's accounts CSV is where accounts are edited; a Ghostfolio file only
                # adds the accounts Alex does not have yet (its own carry no kind).
                fresh = [a for a in item.accounts if store.get_account(a.id) is None]
                for account in fresh:
                    put(store.put_account)(account)
            else:
                counts = _put_each(item.accounts, store.get_account, put(store.put_account), _id)
                report = _counted(report, len(item.accounts), counts)
        if item.instruments:
            counts = _put_each(
                item.instruments, store.get_instrument, put(store.put_instrument), _symbol
            )
            report = _counted(report, len(item.instruments), counts)
        if item.fx:
            report = _counted(report, len(item.fx), self._put_rates(item.fx, dry_run))
        if item.prices:
            report = _counted(report, len(item.prices), self._put_prices(item.prices, dry_run))
        if item.kind is FileKind.TRANSACTIONS:
            added = 0
            if item.transactions and not dry_run:
                added = store.add_transactions(item.transactions)
            transactions = [entry.transaction for entry in item.transactions]
            symbols = sorted({t.symbol for t in transactions if t.symbol})
            report = dataclasses.replace(
                report,
                records=len(item.transactions),
                new=added,
                unchanged=len(item.transactions) - added,
                accounts=tuple(
                    sorted({t.account for t in transactions} | {a.id for a in item.accounts})
                ),
                instruments=tuple(symbols),
                unclassified=tuple(
                    s
                    for s in sorted(
                        {t.symbol for t in transactions if t.type in TRADES and t.symbol}
                    )
                    if s not in also_known and store.get_instrument(s) is None
                ),
            )
        else:
            report = dataclasses.replace(
                report,
                accounts=tuple(sorted(a.id for a in item.accounts)),
                instruments=tuple(
                    sorted({i.symbol for i in item.instruments} | {p.symbol for p in item.prices})
                ),
            )
        return report

    def _put_prices(self, prices: Sequence[Price], dry_run: bool = False) -> tuple[int, int, int]:
        stored: dict[tuple[str, date], Price] = {}
        for symbol in sorted({p.symbol for p in prices}):
            stored.update(((p.symbol, p.date), p) for p in self.store.list_prices(symbol))
        counts = _compare(prices, stored, lambda p: (p.symbol, p.date))
        if not dry_run:
            self.store.put_prices(prices)
        return counts

    def _put_rates(self, rates: Sequence[FxRate], dry_run: bool = False) -> tuple[int, int, int]:
        stored: dict[tuple[str, str, date], FxRate] = {}
        for base, quote in sorted({(r.base, r.quote) for r in rates}):
            stored.update(
                ((r.base, r.quote, r.date), r) for r in self.store.list_fx_rates(base, quote)
            )
        counts = _compare(rates, stored, lambda r: (r.base, r.quote, r.date))
        if not dry_run:
            self.store.put_fx_rates(rates)
        return counts

    # --- exporting ------------------------------------------------------------------------
    def export(
        self, format: ImportFormat | str = ImportFormat.ALEX, kind: FileKind = FileKind.TRANSACTIONS
    ) -> Export:
        """The stored records as a file an import reads back to the same records. Ghostfolio's
        format holds transactions only, and has no DEPOSIT or WITHDRAWAL: those are left out
        and counted in :attr:`Export.left_out`."""
        chosen = ImportFormat(format)
        store = self.store
        transactions = [entry.transaction for entry in store.list_transactions()]
        if chosen is ImportFormat.GHOSTFOLIO:
            if kind is not FileKind.TRANSACTIONS:
                raise InvalidInputError(f"Ghostfolio's format holds transactions, not {kind}")
            cash_moves = (TransactionType.DEPOSIT, TransactionType.WITHDRAWAL)
            text = dump_ghostfolio(
                store.list_accounts(),
                transactions,
                exported_at=datetime.combine(self._today(), time()),
                base_currency=store.get_settings().base_currency,
                omit_cash_moves=True,
            )
            return Export(text, sum(t.type in cash_moves for t in transactions))
        if chosen is not ImportFormat.ALEX:
            raise InvalidInputError("export: choose the alex or ghostfolio format")
        match kind:
            case FileKind.TRANSACTIONS:
                text = dump_transactions(transactions)
            case FileKind.ACCOUNTS:
                text = dump_accounts(store.list_accounts())
            case FileKind.INSTRUMENTS:
                text = dump_instruments(store.list_instruments())
            case FileKind.PRICES:
                text = dump_prices(p for s in self._symbols() for p in store.list_prices(s))
            case FileKind.FX:
                pairs = self.currency_pairs()
                text = dump_fx(rate for pair in pairs for rate in store.list_fx_rates(*pair))
        return Export(text, 0)

    def _symbols(self) -> list[str]:
        """Every symbol a price may be stored for: instruments and the symbols traded."""
        traded = {e.transaction.symbol for e in self.store.list_transactions()}
        known = {i.symbol for i in self.store.list_instruments()}
        return sorted(s for s in traded | known if s)

    def currency_pairs(
        self,
        transactions: Iterable[Transaction] | None = None,
        extra_currencies: Iterable[str] = (),
    ) -> list[tuple[str, str]]:
        """Every pair of the currencies in use (and the usual pivots): the ones whose rates
        a valuation may need, directly or through a third currency."""
        store = self.store
        if transactions is None:
            transactions = (entry.transaction for entry in store.list_transactions())
        return currency_pairs(
            store.get_settings(),
            store.list_accounts(),
            store.list_instruments(),
            transactions,
            extra_currencies,
        )


def currency_pairs(
    settings: PortfolioSettings,
    accounts: Iterable[Account],
    instruments: Iterable[Instrument],
    transactions: Iterable[Transaction],
    extra_currencies: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """:meth:`PortfolioFiles.currency_pairs` on records already read (``show`` has them)."""
    found = {settings.base_currency, *_PIVOTS}
    found.update(a.currency for a in accounts)
    found.update(i.currency for i in instruments)
    found.update(t.currency for t in transactions)
    found.update(extra_currencies)
    currencies = sorted(found)
    return [(b, q) for b in currencies for q in currencies if b != q]


@dataclass(frozen=True)
class Export:
    text: str
    left_out: int  # transactions the format cannot hold (Ghostfolio: deposits, withdrawals)


# Currencies that FX tables are usually quoted against (the ECB's rates are all per euro):
# always consulted, so a conversion through them is found even if no record names them.
_PIVOTS = ("EUR", "USD")


def _recorded(transactions: Sequence[Transaction]) -> list[RecordedTransaction]:
    return [
        RecordedTransaction(id_, t)
        for id_, t in zip(transaction_ids(transactions), transactions, strict=True)
    ]


def _combined(
    stored: Mapping[str, Transaction], parsed: Sequence[_Parsed]
) -> dict[str, Transaction]:
    """The transactions the store will hold after the import, by id."""
    combined = dict(stored)
    for item in parsed:
        for entry in item.transactions:
            combined.setdefault(entry.id, entry.transaction)
    return combined


def _adjust_balances(parsed: Sequence[_Parsed], stored: Mapping[str, Transaction]) -> None:
    """Add to each Ghostfolio file the deposits (or withdrawals) that make the account's cash
    its balance, counting the stored transactions and every file of the call. Balances are
    met oldest first, so a later one counts the adjustment an earlier one made."""
    claims = sorted(
        ((balance, item) for item in parsed for balance in item.balances),
        key=lambda claim: claim[0].day,
    )
    if not claims:
        return
    combined = _combined(stored, parsed)
    wallets: dict[tuple[str, str], list[Transaction]] = {}  # so each claim reads its own
    for transaction in combined.values():
        wallets.setdefault((transaction.account, transaction.currency), []).append(transaction)
    for balance, item in claims:
        wallet = wallets.setdefault((balance.account, balance.currency), [])
        adjustment = balance_adjustment(balance, wallet)
        if adjustment is None:
            continue
        # Unique even beside an equal stored adjustment (one from an earlier file): the gap,
        # not the id, is what keeps a re-import from adding, since the gap is then 0.
        occurrence = 0
        while (id_ := transaction_id(adjustment, occurrence)) in combined:
            occurrence += 1
        combined[id_] = adjustment
        wallet.append(adjustment)
        item.transactions.append(RecordedTransaction(id_, adjustment))
        item.adjusted.append(balance.where)


def _connected(start: str, goal: str, pairs: Iterable[tuple[str, str]]) -> bool:
    """Whether rates lead from one currency to the other, either way round, in any steps."""
    links: dict[str, set[str]] = {}
    for base, quote in pairs:
        links.setdefault(base, set()).add(quote)
        links.setdefault(quote, set()).add(base)
    seen, frontier = {start}, [start]
    while frontier:
        for neighbour in links.get(frontier.pop(), set()) - seen:
            seen.add(neighbour)
            frontier.append(neighbour)
    return goal in seen


def _locations(item: _Parsed) -> list[str]:
    """Where each transaction of a parsed file came from, in order: "row 5" (its CSV row,
    the header is row 1) or "activities[3]" (Ghostfolio's JSON)."""
    if item.format is ImportFormat.GHOSTFOLIO:
        activities = len(item.transactions) - len(item.adjusted)
        return [f"activities[{index}]" for index in range(activities)] + item.adjusted
    return [f"row {row.number}" for row in rows(item.text, TRANSACTION_HEADER, Problems("csv"))]


def _accounts(name: str, text: str) -> list[Account]:
    try:
        return parse_accounts(text)
    except InvalidInputError as error:
        raise InvalidInputError(f"{name}: {error.message}") from None


def _skip(record: object) -> None:
    """A dry run's put: nothing stored."""


def _id(account: Account) -> str:
    return account.id


def _symbol(instrument: Instrument) -> str:
    return instrument.symbol


def _put_each(
    records: Iterable[R],
    get: Callable[[str], R | None],
    put: Callable[[R], None],
    key: Callable[[R], str],
) -> tuple[int, int, int]:
    """Put each record; (new, unchanged, updated)."""
    new = unchanged = updated = 0
    for record in records:
        held = get(key(record))
        if held is None:
            new += 1
        elif held == record:
            unchanged += 1
            continue
        else:
            updated += 1
        put(record)
    return new, unchanged, updated


def _compare(
    records: Iterable[R], stored: Mapping[K, R], key: Callable[[R], K]
) -> tuple[int, int, int]:
    new = unchanged = updated = 0
    for record in records:
        held = stored.get(key(record))
        if held is None:
            new += 1
        elif held == record:
            unchanged += 1
        else:
            updated += 1
    return new, unchanged, updated


def _counted(report: ImportReport, records: int, counts: tuple[int, int, int]) -> ImportReport:
    new, unchanged, updated = counts
    return dataclasses.replace(
        report,
        records=report.records + records,
        new=report.new + new,
        unchanged=report.unchanged + unchanged,
        updated=report.updated + updated,
    )
