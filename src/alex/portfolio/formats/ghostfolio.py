"""Ghostfolio's activities export/import JSON, read into Alex's records and written back.

The format is Ghostfolio's own (github.com/ghostfolio/ghostfolio, read at commit
c542997d27990365b607c7a6c9fe4bc8835a55c8): ``ImportDataDto`` (apps/api/src/app/import/
import-data.dto.ts) takes ``activities`` (``CreateOrderDto``, libs/common/src/lib/dtos/
create-order.dto.ts) and optional ``accounts`` (``CreateAccountDto``); the export
(apps/api/src/app/export/export.service.ts) writes the same plus ``meta``, ``assetProfiles``,
``platforms``, ``tags`` and ``user``, which the import ignores or takes as given.

How each activity type maps, and what Alex refuses, is in docs/portfolio.md ("Importing and
exporting"). In short: BUY, SELL, DIVIDEND and INTEREST map field for field; a Ghostfolio FEE
carries its amount in ``fee`` (quantity and unit price 0, as Ghostfolio's activity dialog
writes it), an Alex FEE as the unit price of one unit; LIABILITY (a debt) and ITEM (a valuable,
removed from Ghostfolio in 2025) have no Alex equivalent and are refused by index; Alex's
DEPOSIT and WITHDRAWAL have no Ghostfolio activity (Ghostfolio keeps cash as account
balances).

Cash. An account's ``balance`` is read as a :class:`Balance`, its cash on the export's day;
the parser adds nothing for it, since the deposit that makes Alex agree depends on what the
store already holds (:func:`balance_adjustment`, applied by ``alex.portfolio.files``). The
export writes each account's cash as its ``balance``, and the cash it holds in other
currencies (which Ghostfolio's one balance cannot say) on comment lines of its own."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from alex.portfolio.formats import fields
from alex.portfolio.formats.problems import CellError, FormatError, Problem, Problems
from alex.portfolio.holdings import cash_effect, cash_on
from alex.portfolio.model import Account, AccountKind, Transaction, TransactionType

T = TypeVar("T")

# prisma/schema.prisma, enum DataSource and enum Type.
DATA_SOURCES = frozenset(
    {
        "ALPHA_VANTAGE",
        "COINGECKO",
        "EOD_HISTORICAL_DATA",
        "FINANCIAL_MODELING_PREP",
        "GHOSTFOLIO",
        "GOOGLE_SHEETS",
        "MANUAL",
        "RAPID_API",
        "YAHOO",
    }
)
_MAPPED = {
    "BUY": TransactionType.BUY,
    "SELL": TransactionType.SELL,
    "DIVIDEND": TransactionType.DIVIDEND,
    "INTEREST": TransactionType.INTEREST,
    "FEE": TransactionType.FEE,
}
_REFUSED = {
    "LIABILITY": "a LIABILITY (a debt) has no Alex equivalent; leave it out of the file",
    "ITEM": "an ITEM (a valuable such as a house; Ghostfolio dropped the type in 2025) has "
    "no Alex equivalent; leave it out of the file",
}
# libs/common/src/lib/config.ts, DERIVED_CURRENCIES (and USX, "handled separately" there):
# prices quoted in hundredths of the root currency, e.g. London prices in pence.
DERIVED_CURRENCIES = {"GBp": "GBP", "ILA": "ILS", "ZAc": "ZAR", "USX": "USD"}
_HUNDRED = Decimal(100)
# Ghostfolio's custom asset profiles (cash-only activities, valuables): a UUID or "GF_..."
# (libs/common/src/lib/helper.ts, isValidCustomAssetProfileSymbol).
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_GHOSTFOLIO_PREFIX = "GF_"
# Fixed, so the profile of "interest on account X in USD" has one id in every export.
_PROFILE_NAMESPACE = uuid.UUID("6f1c1f5e-8d7a-4a53-9a43-0c2f7f3b9a10")
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})([T ].*)?$")
# Alex's account kind rides in the Ghostfolio account's comment, on a line of its own, and so
# does the cash an account holds in another currency than its own (one line per currency).
_KIND = re.compile(r"^Alex account kind: (\w+)$", re.M)
_FOREIGN_CASH = re.compile(r"^Alex cash in (\S+): (.*)$", re.M)
_SIGNED = re.compile(r"^-?\d+(\.\d+)?$")
_CASH_MOVES = frozenset({TransactionType.DEPOSIT, TransactionType.WITHDRAWAL})


@dataclass(frozen=True)
class Balance:
    """What the file says an account's cash in ``currency`` was at the end of ``day``: its
    ``balance`` (in the account's currency), or an ``Alex cash in EUR: ...`` comment line.
    ``where`` names it in the file (``accounts[0], balance``)."""

    account: str
    currency: str
    amount: Decimal  # may be below 0
    day: date
    where: str


@dataclass(frozen=True)
class GhostfolioImport:
    accounts: list[Account]
    transactions: list[Transaction]
    balances: list[Balance] = field(default_factory=list)


def parse_ghostfolio(
    text: str,
    *,
    today: date,
    known_accounts: Collection[str] | None = None,
    default_account: str | None = None,
) -> GhostfolioImport:
    """The accounts and activities of a Ghostfolio export, or :class:`FormatError` naming
    each faulty ``activities[i]`` / ``accounts[i]`` and key (nothing returned then).

    An activity's ``accountId`` must be one of the file's accounts or of ``known_accounts``
    (when given); an activity without one goes to ``default_account``, or is refused."""
    problems = Problems("Ghostfolio JSON")
    document = _load(text)
    if not isinstance(document, dict) or not isinstance(document.get("activities"), list):
        problems.add("file", "activities", "expected an object with an 'activities' list")
        problems.raise_any()
    raw_accounts = document.get("accounts", [])
    if not isinstance(raw_accounts, list):
        problems.add("file", "accounts", "expected a list")
        raw_accounts = []
    accounts = _each(raw_accounts, "accounts", _account, problems)
    # Checked when there is something to check against: a file without accounts (Ghostfolio
    # allows that) refers to accounts only the caller can know.
    allowed = (
        None
        if known_accounts is None and not raw_accounts
        else {account.id for account in accounts} | set(known_accounts or ())
    )

    def activity(item: dict[str, Any]) -> Transaction:
        return _activity(item, today, allowed, default_account)

    transactions = _each(document["activities"], "activities", activity, problems)
    # Non-objects are already named by the accounts' reading: each gives no balance here.
    objects = [item if isinstance(item, dict) else {} for item in raw_accounts]
    claims = _each(objects, "accounts", _claims, problems)
    exported = _export_day(document.get("meta"), today, problems)
    problems.raise_any()
    # The day the balances were true: the export's, else the file's last activity's.
    day = exported or max((t.date for t in transactions), default=today)
    balances = [
        Balance(account.id, currency, amount, day, f"accounts[{index}], {source}")
        for index, (account, (balance, foreign)) in enumerate(zip(accounts, claims, strict=True))
        for currency, amount, source in [
            *([(account.currency, balance, "balance")] if balance is not None else []),
            *((code, value, "comment") for code, value in foreign.items()),
        ]
    ]
    return GhostfolioImport(accounts, transactions, balances)


def balance_adjustment(balance: Balance, transactions: Iterable[Transaction]) -> Transaction | None:
    """The DEPOSIT (or WITHDRAWAL) on the balance's day that takes the account's cash in that
    currency, as ``transactions`` give it on that day, to the balance; None when they agree.

    Ghostfolio keeps cash as a balance beside the activities (it has no deposits); Alex derives
    it. Pass every transaction the account will hold (the store's and the import's): then a
    re-import, or a file whose balance already counts deposits made in Alex, adds nothing."""
    derived = cash_on(transactions, balance.account, balance.currency, balance.day)
    gap = balance.amount - derived
    if not gap:
        return None
    return Transaction(
        date=balance.day,
        account=balance.account,
        type=TransactionType.DEPOSIT if gap > 0 else TransactionType.WITHDRAWAL,
        symbol=None,
        quantity=Decimal(1),
        unit_price=abs(gap),
        fee=Decimal(0),
        currency=balance.currency,
        note=f"Ghostfolio cash balance {balance.amount} {balance.currency} on "
        f"{balance.day.isoformat()}; Alex's cash then was {derived}",
    )


def _claims(item: dict[str, Any]) -> tuple[Decimal | None, dict[str, Decimal]]:
    """An account's ``balance`` (None if absent) and the cash its comment says it holds in
    other currencies."""
    foreign: dict[str, Decimal] = {}
    comment = item.get("comment")
    for code, amount in _FOREIGN_CASH.findall(comment if isinstance(comment, str) else ""):
        try:
            foreign[fields.currency(code)] = _signed(amount.strip(), exact=True)
        except fields.FieldError as error:
            raise CellError("comment", f"cash in {code}: {error}") from None
    return _balance(item), foreign


def _balance(item: dict[str, Any]) -> Decimal | None:
    """An account's ``balance`` (its cash in its currency; may be below 0), None if absent."""
    value = item.get("balance")
    if value is None:
        return None
    try:
        return _signed(value)
    except fields.FieldError as error:
        raise CellError("balance", str(error)) from None


def _signed(value: Any, exact: bool = False) -> Decimal:
    """A JSON number that may be below 0 (or, ``exact``, a plain decimal written as text)."""
    if exact:
        if not _SIGNED.match(value):
            raise fields.FieldError(f"expected a number such as -12.5 (got {value!r})")
        value = Decimal(value)
    elif not isinstance(value, Decimal):
        raise fields.FieldError(f"expected a number (got {json.dumps(value, default=str)})")
    return -fields.bounded(-value) if value < 0 else fields.bounded(value)


def _export_day(meta: Any, today: date, problems: Problems) -> date | None:
    if not isinstance(meta, dict) or meta.get("date") is None:
        return None
    try:
        return _date(today)(meta["date"])
    except fields.FieldError as error:
        problems.add("meta", "date", str(error))
        return None


def dump_ghostfolio(
    accounts: Sequence[Account],
    transactions: Sequence[Transaction],
    *,
    exported_at: datetime,
    base_currency: str,
    omit_cash_moves: bool = False,
) -> str:
    """A Ghostfolio import file holding ``accounts`` and ``transactions`` (in the order given).

    DEPOSIT and WITHDRAWAL cannot be written (Ghostfolio has no such activity): they are a
    :class:`FormatError` naming them, or left out with ``omit_cash_moves``. Each account's
    ``balance`` (which Ghostfolio requires) is its cash in its currency at the end of the
    export's day (UTC), from every transaction given, cash moves included; its cash in other
    currencies goes on ``Alex cash in EUR: 205.52`` lines of its comment. Numbers are JSON
    numbers, as Ghostfolio writes them; one a binary float cannot hold exactly is refused."""
    problems = Problems("Ghostfolio export")
    ids = {account.id for account in accounts}
    activities: list[dict[str, Any]] = []
    profiles: dict[str, dict[str, Any]] = {}
    for index, transaction in enumerate(transactions):
        where = f"transactions[{index}]"
        if transaction.type in _CASH_MOVES:
            if not omit_cash_moves:
                problems.add(where, "type", f"Ghostfolio has no {transaction.type} activity")
            continue
        if transaction.account not in ids:
            problems.add(where, "account", f"{transaction.account!r} is not an exported account")
            continue
        try:
            activities.append(_to_activity(transaction, profiles))
        except CellError as error:
            problems.add(where, error.field, error.message)
    day = exported_at.astimezone(UTC).date() if exported_at.tzinfo else exported_at.date()
    cash: dict[tuple[str, str], Decimal] = {}  # by account and currency, on the export's day
    for t in transactions:
        if t.date <= day:
            wallet = (t.account, t.currency)
            cash[wallet] = cash.get(wallet, Decimal(0)) + cash_effect(t)
    written = []
    for index, account in enumerate(accounts):
        try:
            written.append(_to_account(account, cash))
        except CellError as error:
            problems.add(f"accounts[{index}]", error.field, error.message)
    problems.raise_any()
    document = {
        "meta": {"date": _timestamp(exported_at), "version": "alex"},
        "accounts": written,
        "assetProfiles": list(profiles.values()),
        "platforms": [],
        "tags": [],
        "activities": activities,
        "user": {"settings": {"currency": base_currency}},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- reading ------------------------------------------------------------------------------


def _load(text: str) -> Any:
    def constant(name: str) -> None:
        raise FormatError("Ghostfolio JSON", [Problem("file", None, f"{name} is not a number")])

    try:
        return json.loads(
            text.removeprefix("\ufeff"),
            parse_float=Decimal,
            parse_int=Decimal,
            parse_constant=constant,
        )
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise FormatError(
            "Ghostfolio JSON", [Problem(where, None, f"malformed JSON ({error.msg})")]
        ) from None
    except RecursionError:
        raise FormatError("Ghostfolio JSON", [Problem("file", None, "nested too deeply")]) from None


def _each(
    items: list[Any], name: str, build: Callable[[dict[str, Any]], T], problems: Problems
) -> list[T]:
    built = []
    for index, item in enumerate(items):
        where = f"{name}[{index}]"
        if not isinstance(item, dict):
            problems.add(where, None, "expected an object")
            continue
        try:
            built.append(build(item))
        except CellError as error:
            problems.add(where, error.field, error.message)
    return built


def _get(item: dict[str, Any], key: str, check: Callable[[Any], T]) -> T:
    try:
        return check(item.get(key))
    except fields.FieldError as error:
        raise CellError(key, str(error)) from None


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise fields.FieldError("missing or not a string")
    return value


def _optional_string(value: Any) -> str:
    return "" if value is None else _string(value)


def _number(value: Any) -> Decimal:
    if not isinstance(value, Decimal):
        raise fields.FieldError(f"expected a number (got {json.dumps(value, default=str)})")
    return fields.bounded(value)


def _currency(value: Any) -> tuple[str, Decimal]:
    """The ISO code and the divisor taking amounts to it: ``"GBp"`` -> ``("GBP", 100)``."""
    text = _string(value)
    if text in DERIVED_CURRENCIES:
        return DERIVED_CURRENCIES[text], _HUNDRED
    if text != text.upper():
        raise fields.FieldError(f"expected an upper-case currency code (got {text!r})")
    return fields.currency(text), Decimal(1)


def _date(today: date) -> Callable[[Any], date]:
    def check(value: Any) -> date:
        text = _string(value)
        match = _DATE.match(text)
        try:
            datetime.fromisoformat(text)
            if not match:
                raise ValueError
        except ValueError:
            raise fields.FieldError(f"expected an ISO 8601 date (got {text!r})") from None
        # The calendar day as written: converting to UTC would move evening trades a day.
        return fields.in_range(date.fromisoformat(match.group(1)), today)

    return check


def _account(item: dict[str, Any]) -> Account:
    account_id = _get(item, "id", lambda value: fields.account(_string(value)))
    name = _get(item, "name", _string)
    code, _ = _get(item, "currency", _currency)
    comment = _get(item, "comment", _optional_string)
    found = _KIND.search(comment)
    kind = AccountKind.TAXABLE
    if found:
        try:
            kind = AccountKind(found.group(1))
        except ValueError:
            raise CellError("comment", f"unknown account kind {found.group(1)!r}") from None
    return Account(account_id, name.strip() or account_id, kind, code)


def _activity(
    item: dict[str, Any],
    today: date,
    allowed: set[str] | None,
    default_account: str | None,
) -> Transaction:
    raw_type = _get(item, "type", _string)
    if raw_type in _REFUSED:
        raise CellError("type", _REFUSED[raw_type])
    if raw_type not in _MAPPED:
        known = ", ".join([*_MAPPED, *_REFUSED])
        raise CellError("type", f"unknown type {raw_type!r}; Ghostfolio's types are {known}")
    kind = _MAPPED[raw_type]
    account = _get(item, "accountId", _optional_account)
    if account is None:
        if default_account is None:
            raise CellError("accountId", "no account; Alex keeps every activity in one")
        account = default_account
    if allowed is not None and account not in allowed:
        raise CellError("accountId", f"unknown account {account!r}")
    day = _get(item, "date", _date(today))
    data_source = _get(item, "dataSource", _optional_string)
    if data_source and data_source not in DATA_SOURCES:
        raise CellError("dataSource", f"unknown data source {data_source!r}")
    symbol = _get(item, "symbol", _string).strip()
    currency, divisor = _get(item, "currency", _currency)
    quantity = _get(item, "quantity", _number)
    unit_price = fields.bounded(_get(item, "unitPrice", _number) / divisor)
    fee = fields.bounded(_get(item, "fee", _number) / divisor)
    cash_only = kind in (TransactionType.FEE, TransactionType.INTEREST)
    if cash_only and _is_custom_profile(symbol):
        alex_symbol: str | None = None
    else:
        alex_symbol = _get(item, "symbol", lambda value: fields.symbol(_string(value)))
    if kind is TransactionType.FEE and quantity * unit_price == 0:
        # Ghostfolio's FEE: the amount is the fee; Alex's: the unit price of one unit.
        quantity, unit_price, fee = Decimal(1), fee, Decimal(0)
    transaction = Transaction(
        date=day,
        account=account,
        type=kind,
        symbol=alex_symbol,
        quantity=quantity,
        unit_price=unit_price,
        fee=fee,
        currency=currency,
        note=_get(item, "comment", lambda value: fields.note(_optional_string(value))),
    )
    for name, message in fields.transaction_faults(transaction):
        raise CellError(name, message)
    return transaction


def _optional_account(value: Any) -> str | None:
    return None if value is None else fields.account(_string(value))


def _is_custom_profile(symbol: str) -> bool:
    return bool(_UUID.match(symbol)) or symbol.startswith(_GHOSTFOLIO_PREFIX)


# --- writing ------------------------------------------------------------------------------


def _to_account(account: Account, cash: dict[tuple[str, str], Decimal]) -> dict[str, Any]:
    others = sorted(code for held, code in cash if held == account.id and code != account.currency)
    lines = [f"Alex account kind: {account.kind.value}"] + [
        f"Alex cash in {code}: {fields.tidy(cash[(account.id, code)]):f}" for code in others
    ]
    balance = cash.get((account.id, account.currency), Decimal(0))
    return {
        "balance": _json_number(balance, "balance"),
        "balances": [],
        "comment": "\n".join(lines),
        "currency": account.currency,
        "id": account.id,
        "name": account.name,
        "platformId": None,
    }


def _to_activity(t: Transaction, profiles: dict[str, dict[str, Any]]) -> dict[str, Any]:
    quantity, unit_price, fee = t.quantity, t.unit_price, t.fee
    if t.type is TransactionType.FEE and quantity == 1 and fee == 0:
        quantity, unit_price, fee = Decimal(0), Decimal(0), unit_price
    activity: dict[str, Any] = {
        "accountId": t.account,
        "comment": t.note or None,
        "fee": _json_number(fee, "fee"),
        "quantity": _json_number(quantity, "quantity"),
        "type": t.type.value,
        "unitPrice": _json_number(unit_price, "unit_price"),
        "currency": t.currency,
        "date": _timestamp(datetime(t.date.year, t.date.month, t.date.day)),
    }
    if t.symbol is None:
        # A cash-only activity: Ghostfolio wants a custom (MANUAL) profile, one per
        # account, type and currency, with a name a person can read.
        symbol = str(uuid.uuid5(_PROFILE_NAMESPACE, f"{t.account}/{t.type}/{t.currency}"))
        profiles.setdefault(
            symbol,
            {
                "currency": t.currency,
                "dataSource": "MANUAL",
                "marketData": [],
                "name": f"{t.type.value.capitalize()} ({t.account})",
                "symbol": symbol,
            },
        )
        activity |= {"dataSource": "MANUAL", "symbol": symbol}
    else:
        # No data source: Ghostfolio picks its own default provider for the symbol.
        activity["symbol"] = t.symbol
    return activity


def _json_number(value: Decimal, field: str) -> int | float:
    """The JSON number Ghostfolio stores (a binary double), if it holds ``value`` exactly."""
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    as_float = float(value)
    if Decimal(repr(as_float)) != value:
        raise CellError(field, f"{value} has more digits than Ghostfolio's numbers hold")
    return as_float


def _timestamp(moment: datetime) -> str:
    """Ghostfolio's form: ``2021-09-16T00:00:00.000Z`` (naive times are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
