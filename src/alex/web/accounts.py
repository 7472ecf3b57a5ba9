"""The accounts and holdings pages: each account's holdings (sortable) and transactions (add,
edit, delete), import with a preview, export, prices and targets.

Every page calls the use cases the JSON API calls (``alex.http.portfolio_operations`` where
one fits, else ``PortfolioService`` and its ``files``), a fixed number of times whatever the
holdings: the accounts page reads ``show`` and the targets once each; an account's page
reads ``show`` and that account's transactions once each.

An import is previewed, then confirmed. The preview runs the import's own parsing and checks
(``PortfolioFiles.preview``) and stores nothing; its page carries the files back in hidden
fields, base64 (a form post turns every line end into CRLF, which would change the text),
with an HMAC-SHA256 of them keyed by the session's CSRF token. The confirm step imports the
text it is posted only if that digest matches: what is committed is byte for byte what was
previewed in this session, and nothing is kept on the server between the two steps (no
temporary file to leak or clean up). The import checks everything again when confirmed (the
store may have changed in between), all or nothing as always.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from alex.domain.errors import InvalidInputError, NotFoundError
from alex.http import portfolio_operations as operations
from alex.http.portfolio_schemas import PriceBody, TargetPut
from alex.portfolio.allocation import Dimension
from alex.portfolio.files import FilePreview, ImportFormat
from alex.portfolio.formats import fields
from alex.portfolio.formats.alex_csv import TRANSACTION_HEADER
from alex.portfolio.formats.problems import FormatError, Problem
from alex.portfolio.formats.reference_csv import weights
from alex.portfolio.model import TransactionType
from alex.portfolio.summary import import_json, view_json
from alex.services import Services
from alex.web.identity import Session
from alex.web.pages import FormSession, PageSession, page_services, render

router = APIRouter(include_in_schema=False)

# The holdings table's sortable columns: (label, key of view_json's holding, numeric).
HOLDING_COLUMNS: dict[str, tuple[str, str, bool]] = {
    "symbol": ("Instrument", "symbol", False),
    "quantity": ("Quantity", "quantity", True),
    "price": ("Last price", "price", True),
    "price_date": ("Price date", "price_date", False),
    "value": ("Value", "value", True),
    "value_in_base": ("Value (base)", "value_in_base", True),
    "gain": ("Unrealised gain", "unrealised_gain", True),
}
DEFAULT_SORT = ("value_in_base", "descending")
# The newest transactions an account's page lists unless asked for all: a page of a few
# hundred rows renders in tens of milliseconds; thousands would not.
TRANSACTIONS_SHOWN = 100
# What a redirect after a change tells the page to say (a key, never the user's text).
DONE = {
    "added": "Transaction added.",
    "edited": "Transaction changed.",
    "deleted": "Transaction deleted.",
    "imported": "Import done.",
    "price": "Price recorded.",
    "target": "Target saved.",
}
EXPORTS = (
    ("alex", "transactions", "transactions.csv", "Transactions, Alex CSV"),
    ("ghostfolio", "transactions", "ghostfolio.json", "Transactions, Ghostfolio JSON"),
    ("alex", "accounts", "accounts.csv", "Accounts, Alex CSV"),
    ("alex", "instruments", "instruments.csv", "Instruments, Alex CSV"),
    ("alex", "prices", "prices.csv", "Prices, Alex CSV"),
    ("alex", "fx", "fx.csv", "FX rates, Alex CSV"),
)
FORMATS = (("auto", "Detect"), ("alex", "Alex CSV"), ("ghostfolio", "Ghostfolio JSON"))
TRANSACTION_TYPES = tuple(t.value for t in TransactionType)


@dataclass(frozen=True)
class FormErrors:
    """What a refused form shows: a summary and, per field, its message."""

    summary: str
    fields: Mapping[str, str]
    problems: Sequence[Problem] = ()

    @classmethod
    def of(cls, error: InvalidInputError) -> FormErrors:
        if isinstance(error, FormatError):
            by_field = {p.field: p.message for p in error.problems if p.field}
            return cls(error.message, by_field, error.problems)
        return cls(error.message, {})


# --- reading the form --------------------------------------------------------------------


async def _form(request: Request) -> FormData:
    return await request.form()  # parsed once by FormSession; Starlette keeps it


def _value(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _transaction_values(form: FormData, account: str) -> dict[str, str]:
    values = {column: _value(form, column).strip() for column in TRANSACTION_HEADER}
    values["note"] = _value(form, "note")  # the user's text, as given
    values["account"] = account
    return values


# --- shaping for the templates -----------------------------------------------------------


def _sort_key(column: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    _, key, numeric = HOLDING_COLUMNS[column]

    def sort_key(holding: dict[str, Any]) -> tuple[int, Any]:
        raw = holding[key]
        if raw is None:
            return (1, 0)  # unknown last, whichever the order
        return (0, Decimal(raw) if numeric else str(raw).lower())

    return sort_key


def sorted_holdings(
    holdings: list[dict[str, Any]], sort: str | None, order: str | None
) -> tuple[list[dict[str, Any]], str, str]:
    """``holdings`` sorted by ``sort`` (a key of :data:`HOLDING_COLUMNS`) ascending or
    descending; anything else takes the default (largest value first). Unknown values
    (no price) go last either way."""
    column = sort if sort in HOLDING_COLUMNS else DEFAULT_SORT[0]
    direction = order if order in ("ascending", "descending") else DEFAULT_SORT[1]
    key = _sort_key(column)
    known = [h for h in holdings if key(h)[0] == 0]
    unknown = [h for h in holdings if key(h)[0] == 1]
    known.sort(key=key, reverse=direction == "descending")
    return known + unknown, column, direction


def _price_rows(portfolio: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per symbol held: its last price, date and status (fresh, stale, missing)."""
    rows: dict[str, dict[str, Any]] = {}
    for held in portfolio["holdings"]:
        symbol = held["symbol"]
        statuses = [q["status"] for q in held["quotes"] if q["name"] == f"price {symbol}"]
        rows.setdefault(
            symbol,
            {
                "symbol": symbol,
                "name": held["name"],
                "price": held["price"],
                "currency": held["price_currency"] or held["currency"],
                "date": held["price_date"],
                "status": statuses[0] if statuses else "fresh",
            },
        )
    return [rows[symbol] for symbol in sorted(rows)]


def _targets(services: Services) -> list[dict[str, Any]]:
    stored = operations.get_targets(services).targets
    return [
        {
            "dimension": dimension.value,
            "label": dimension.value.replace("_", " ").capitalize(),
            "text": ";".join(f"{b}:{s}" for b, s in stored.get(dimension.value, {}).items()),
        }
        for dimension in Dimension
    ]


def _done(request: Request) -> str | None:
    query = request.query_params
    done = query.get("done", "")
    added = query.get("added", "")
    if done == "imported" and added.isdigit():
        return f"Import done: {int(added):,} new records stored."
    return DONE.get(done)


def _redirect(request: Request, name: str, done: str, **params: str) -> Response:
    path = request.url_for(name, **params).path
    return RedirectResponse(f"{path}?done={done}", status_code=303)


# --- the accounts page ---------------------------------------------------------------------


def _accounts_page(
    request: Request,
    session: Session,
    status_code: int = 200,
    price_errors: FormErrors | None = None,
    price_values: Mapping[str, str] | None = None,
    target_errors: Mapping[str, str] | None = None,
    import_errors: FormErrors | None = None,
) -> Response:
    services = page_services(request)
    portfolio = view_json(services.portfolio.show())
    return render(
        request,
        "accounts.html",
        session,
        status_code=status_code,
        page="accounts",
        p=portfolio,
        prices=_price_rows(portfolio),
        targets=_targets(services),
        exports=EXPORTS,
        formats=FORMATS,
        done=_done(request),
        price_errors=price_errors,
        price_values=price_values or {},
        target_errors=target_errors or {},
        import_errors=import_errors,
    )


@router.get("/accounts", name="accounts")
def accounts_page(request: Request, session: PageSession) -> Response:
    return _accounts_page(request, session)


@router.post("/accounts/prices", name="accounts_price")
async def set_price(request: Request, session: FormSession) -> Response:
    form = await _form(request)
    values = {name: _value(form, name).strip() for name in ("symbol", "close", "currency", "date")}
    try:
        body = PriceBody.model_validate({**values, "date": values["date"] or None})
        operations.prices_set(page_services(request), body)
    except InvalidInputError as error:
        errors = FormErrors.of(error)
        return _accounts_page(request, session, 422, price_errors=errors, price_values=values)
    except ValueError as error:  # the body's own shape (pydantic's ValidationError)
        errors = FormErrors(f"price: {error}", {})
        return _accounts_page(request, session, 422, price_errors=errors, price_values=values)
    return _redirect(request, "accounts", "price")


@router.post("/accounts/targets/{dimension}", name="accounts_target")
async def set_target(request: Request, session: FormSession, dimension: str) -> Response:
    form = await _form(request)
    text = _value(form, "weights")
    try:
        shares = {} if not text.strip() else weights(text).shares
        body = TargetPut(weights={bucket: format(share, "f") for bucket, share in shares.items()})
        operations.put_target(page_services(request), dimension, body)
    except fields.FieldError as error:
        return _accounts_page(request, session, 422, target_errors={dimension: str(error)})
    except InvalidInputError as error:
        return _accounts_page(request, session, 422, target_errors={dimension: error.message})
    return _redirect(request, "accounts", "target")


@router.get("/accounts/export/{filename}", name="accounts_export")
def export(request: Request, session: PageSession, filename: str) -> Response:
    """A download of the stored records, as ``/portfolio/export`` gives them."""
    for format_, kind, name, _ in EXPORTS:
        if name == filename:
            exported = operations.portfolio_export(page_services(request), format_, kind)
            media = "application/json" if name.endswith(".json") else "text/csv"
            return Response(
                exported.text,
                media_type=f"{media}; charset=utf-8",
                headers={"content-disposition": f'attachment; filename="{name}"'},
            )
    return _missing(request, session, f"There is no export named {filename!r}.")


def _missing(request: Request, session: Session, message: str) -> Response:
    return render(request, "accounts_missing.html", session, 404, page="accounts", message=message)


# --- one account: holdings and transactions --------------------------------------------------


def _account_page(
    request: Request,
    session: Session,
    account_id: str,
    status_code: int = 200,
    errors: FormErrors | None = None,
    values: Mapping[str, str] | None = None,
) -> Response:
    services = page_services(request)
    try:
        listed = operations.list_transactions(services, account_id, None, None)
    except NotFoundError:
        return _missing(request, session, f"There is no account {account_id!r}.")
    portfolio = view_json(services.portfolio.show())
    (account,) = [a for a in portfolio["accounts"] if a["id"] == account_id]
    mine = [h for h in portfolio["holdings"] if h["account"] == account_id]
    query = request.query_params
    holdings, column, direction = sorted_holdings(mine, query.get("sort"), query.get("order"))
    show_all = query.get("transactions") == "all"
    return render(
        request,
        "accounts_account.html",
        session,
        status_code=status_code,
        page="accounts",
        p=portfolio,
        account=account,
        holdings=holdings,
        cash=[c for c in portfolio["cash"] if c["account"] == account_id],
        columns=HOLDING_COLUMNS,
        sort=column,
        order=direction,
        transactions=list(reversed(listed.transactions)),  # newest first
        shown=len(listed.transactions) if show_all else TRANSACTIONS_SHOWN,
        types=TRANSACTION_TYPES,
        done=_done(request),
        errors=errors,
        values=values or {"currency": account["currency"]},
    )


@router.get("/accounts/{account_id}", name="account")
def account_page(request: Request, session: PageSession, account_id: str) -> Response:
    return _account_page(request, session, account_id)


@router.post("/accounts/{account_id}/transactions", name="transaction_add")
async def add_transaction(request: Request, session: FormSession, account_id: str) -> Response:
    values = _transaction_values(await _form(request), account_id)
    try:
        page_services(request).portfolio.files.save_transaction(values)
    except InvalidInputError as error:
        return _account_page(request, session, account_id, 422, FormErrors.of(error), values)
    return _redirect(request, "account", "added", account_id=account_id)


def _edit_page(
    request: Request,
    session: Session,
    account_id: str,
    transaction_id: str,
    values: Mapping[str, str] | None = None,
    errors: FormErrors | None = None,
) -> Response:
    services = page_services(request)
    try:
        listed = operations.list_transactions(services, account_id, None, None)
    except NotFoundError:
        return _missing(request, session, f"There is no account {account_id!r}.")
    found = [t for t in listed.transactions if t.id == transaction_id]
    if not found:
        return _missing(request, session, "That transaction is not in this account any more.")
    return render(
        request,
        "accounts_transaction.html",
        session,
        status_code=200 if errors is None else 422,
        page="accounts",
        account_id=account_id,
        transaction=found[0],
        values=values or found[0].model_dump(),
        types=TRANSACTION_TYPES,
        errors=errors,
    )


@router.get("/accounts/{account_id}/transactions/{transaction_id}", name="transaction_edit")
def edit_transaction_page(
    request: Request, session: PageSession, account_id: str, transaction_id: str
) -> Response:
    return _edit_page(request, session, account_id, transaction_id)


@router.post("/accounts/{account_id}/transactions/{transaction_id}", name="transaction_save")
async def edit_transaction(
    request: Request, session: FormSession, account_id: str, transaction_id: str
) -> Response:
    values = _transaction_values(await _form(request), account_id)
    files = page_services(request).portfolio.files
    try:
        files.save_transaction(values, replaces=transaction_id)
    except NotFoundError:
        return _missing(request, session, "That transaction is not stored any more.")
    except InvalidInputError as error:
        errors = FormErrors.of(error)
        return _edit_page(request, session, account_id, transaction_id, values, errors)
    return _redirect(request, "account", "edited", account_id=account_id)


@router.post(
    "/accounts/{account_id}/transactions/{transaction_id}/delete", name="transaction_delete"
)
def delete_transaction(
    request: Request, session: FormSession, account_id: str, transaction_id: str
) -> Response:
    try:
        operations.delete_transaction(page_services(request), transaction_id)
    except NotFoundError:
        return _missing(request, session, "That transaction is not stored any more.")
    except InvalidInputError as error:
        errors = FormErrors.of(error)
        return _edit_page(request, session, account_id, transaction_id, errors=errors)
    return _redirect(request, "account", "deleted", account_id=account_id)


# --- import: preview, then confirm -----------------------------------------------------------


def _digest(session: Session, format_: str, files: Sequence[tuple[str, str]]) -> str:
    """The HMAC binding a preview's files to this session (see the module's docstring)."""
    message = json.dumps([format_, [list(file) for file in files]], ensure_ascii=False)
    key = session.csrf_token.encode("utf-8")
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


async def _uploads(form: FormData) -> list[tuple[str, str]]:
    files = []
    for upload in form.getlist("files"):
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        data = await upload.read()
        try:
            files.append((upload.filename, data.decode("utf-8")))
        except UnicodeDecodeError:
            raise InvalidInputError(f"{upload.filename}: not UTF-8 text") from None
    if not files:
        raise InvalidInputError("files: choose at least one file to import")
    return files


def _format(form: FormData) -> str:
    chosen = _value(form, "format") or ImportFormat.AUTO.value
    if chosen not in {f.value for f in ImportFormat}:
        raise InvalidInputError(f"format: one of {', '.join(f.value for f in ImportFormat)}")
    return chosen


@router.post("/accounts/import", name="accounts_import")
async def preview_import(request: Request, session: FormSession) -> Response:
    """The import checked and counted, nothing stored; the page asks to confirm."""
    form = await _form(request)
    try:
        format_ = _format(form)
        files = await _uploads(form)
        previews = page_services(request).portfolio.files.preview(files, format_)
    except InvalidInputError as error:
        return _accounts_page(request, session, 422, import_errors=FormErrors.of(error))
    return render(
        request,
        "accounts_import.html",
        session,
        page="accounts",
        format=format_,
        previews=[_preview(p) for p in previews],
        files=[
            (name, base64.b64encode(text.encode("utf-8")).decode("ascii")) for name, text in files
        ],
        digest=_digest(session, format_, files),
    )


def _preview(preview: FilePreview) -> dict[str, Any]:
    return {
        **import_json(preview.report),
        "added": [
            {
                "date": t.date.isoformat(),
                "account": t.account,
                "type": t.type.value,
                "symbol": t.symbol or "",
                "quantity": format(t.quantity, "f"),
                "unit_price": format(t.unit_price, "f"),
                "fee": format(t.fee, "f"),
                "currency": t.currency,
                "note": t.note,
            }
            for t in preview.added
        ],
    }


@router.post("/accounts/import/confirm", name="accounts_import_confirm")
async def confirm_import(request: Request, session: FormSession) -> Response:
    """The previewed files, imported: only if they are exactly the ones previewed."""
    form = await _form(request)
    names = [v for v in form.getlist("name") if isinstance(v, str)]
    contents = [v for v in form.getlist("content") if isinstance(v, str)]
    try:
        format_ = _format(form)
        if len(names) != len(contents):
            raise InvalidInputError("files: the preview's form was changed; preview it again")
        try:
            texts = [base64.b64decode(c, validate=True).decode("utf-8") for c in contents]
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidInputError(
                "files: the preview's form was changed; preview it again"
            ) from None
        files = list(zip(names, texts, strict=True))
        if not hmac.compare_digest(_digest(session, format_, files), _value(form, "digest")):
            raise InvalidInputError("files: these are not the files previewed; preview them again")
        reports = page_services(request).portfolio.files.import_files(files, format_)
    except InvalidInputError as error:
        return _accounts_page(request, session, 422, import_errors=FormErrors.of(error))
    added = sum(report.new for report in reports)
    path = request.url_for("accounts").path
    return RedirectResponse(f"{path}?done=imported&added={added}", status_code=303)
