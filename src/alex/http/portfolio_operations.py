"""What each portfolio route does, once, for every door (``alex.http.operations``' sibling).

The FastAPI app, the CLI's local client (``alex.client.LocalClient``) and, next, the Lambda
handlers call these with bodies validated by ``alex.http.portfolio_schemas``; each calls one
use case of :class:`~alex.portfolio.service.PortfolioService` and shapes its answer with
:mod:`alex.portfolio.summary`, so a route, ``--json`` locally and ``--json`` remotely answer
alike. Text fields are checked here (dates, decimals, lone surrogates): a bad one is an
``InvalidInputError`` naming the field, answered 422.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from alex.domain.errors import InvalidInputError, NotFoundError, PayloadTooLargeError
from alex.http.portfolio_schemas import (
    AccountBody,
    AccountListResponse,
    AccountPut,
    ClassificationDecision,
    ClassificationListResponse,
    ExportResponse,
    ImportReportBody,
    ImportResponse,
    PortfolioBody,
    PortfolioDeleteResponse,
    PortfolioImportBody,
    PriceAnswer,
    PriceBody,
    PricesImportBody,
    ProjectionBody,
    ProjectionRequest,
    ProjectionSettingsBody,
    ProjectionSettingsPut,
    ProposalBody,
    SettingsBody,
    SettingsPut,
    TargetPut,
    TargetsResponse,
    TransactionBody,
    TransactionListResponse,
    XRayBody,
)
from alex.portfolio.files import FileKind, ImportFormat, ImportReport
from alex.portfolio.formats import fields
from alex.portfolio.holdings import ledger
from alex.portfolio.model import (
    Account,
    AccountKind,
    PortfolioSettings,
    ProposedClassification,
    RecordedTransaction,
)
from alex.portfolio.service import ProjectionPlan
from alex.portfolio.summary import (
    exact,
    import_json,
    projection_json,
    proposal_json,
    view_json,
    xray_json,
)
from alex.services import Services

# A contribution growing faster than this would overflow the projection's floats.
MAX_CONTRIBUTION_GROWTH = Decimal(1)


def portfolio_show(services: Services, as_of: str | None) -> PortfolioBody:
    view = services.portfolio.show(_day(as_of, "as_of"))
    return PortfolioBody.model_validate(view_json(view))


def portfolio_xray(services: Services, as_of: str | None) -> XRayBody:
    return XRayBody.model_validate(xray_json(services.portfolio.xray(_day(as_of, "as_of"))))


def portfolio_import(services: Services, body: PortfolioImportBody) -> ImportResponse:
    """All the files or none; over the body limit (counted in UTF-8 bytes of the texts, as
    the Lambda door has no body middleware) is 413."""
    limit = services.settings.max_body_bytes
    size = 0
    for index, file in enumerate(body.files):
        where = f"files[{index}]"
        _text(file.name, f"{where}.name")
        size += len(_text(file.text, f"{where}.text ({file.name})").encode("utf-8"))
        if size > limit:
            raise PayloadTooLargeError(
                f"{where} ({file.name}): the files are over the limit of {limit:,} bytes; "
                "import them in several calls"
            )
    reports = services.portfolio.files.import_files(
        [(file.name, file.text) for file in body.files], ImportFormat(body.format)
    )
    return ImportResponse(reports=[_report(report) for report in reports])


def portfolio_export(services: Services, format: str, what: str) -> ExportResponse:
    exported = services.portfolio.files.export(ImportFormat(format), FileKind(what))
    return ExportResponse.model_validate(
        {"format": format, "what": what, "text": exported.text, "left_out": exported.left_out}
    )


def portfolio_projection(services: Services, body: ProjectionRequest) -> ProjectionBody:
    """Inputs left out take the settings' (``ProjectionPlan``)."""
    growth = _maybe_decimal(body.contribution_growth, "contribution_growth")
    if growth is not None and growth > MAX_CONTRIBUTION_GROWTH:
        raise InvalidInputError("contribution_growth: at most 1 (100% a year)")
    plan = ProjectionPlan(
        current_age=body.current_age,
        retirement_age=body.retirement_age,
        end_age=body.end_age,
        contribution=_maybe_decimal(body.contribution, "contribution"),
        contribution_growth=growth,
        spending=_maybe_decimal(body.spending, "spending"),
        fee=_maybe_decimal(body.fee, "fee"),
        years=body.years,
    )
    result = services.portfolio.project(
        plan, seed=body.seed, paths=body.paths, as_of=_day(body.as_of, "as_of")
    )
    return ProjectionBody.model_validate(projection_json(result))


def prices_import(services: Services, body: PricesImportBody) -> ImportResponse:
    _text(body.name, "name")
    report = services.portfolio.files.import_prices(_text(body.text, "text"), name=body.name)
    return ImportResponse(reports=[_report(report)])


def prices_set(services: Services, body: PriceBody) -> PriceAnswer:
    price = services.portfolio.files.set_price(
        _text(body.symbol, "symbol"),
        _decimal(body.close, "close"),
        _text(body.currency, "currency"),
        _day(body.date, "date"),
    )
    return PriceAnswer(
        symbol=price.symbol,
        date=price.date.isoformat(),
        close=format(price.close, "f"),
        currency=price.currency,
    )


# --- accounts ------------------------------------------------------------------------------


def list_accounts(services: Services) -> AccountListResponse:
    accounts = services.portfolio.store.list_accounts()
    return AccountListResponse(accounts=[_account(account) for account in accounts])


def get_account(services: Services, account_id: str) -> AccountBody:
    return _account(_stored_account(services, account_id))


def put_account(services: Services, account_id: str, body: AccountPut) -> AccountBody:
    """Create or replace one account. Its currency cannot change once it holds transactions
    (their amounts are in the currencies they were made in, valued through it)."""
    store = services.portfolio.store
    try:
        account = Account(
            id=fields.account(_text(account_id, "account_id")),
            name=fields.note(_text(body.name, "name")).strip(),
            kind=AccountKind(body.kind),
            currency=fields.currency(body.currency),
        )
    except fields.FieldError as error:
        raise InvalidInputError(f"account: {error}") from None
    if not account.name:
        raise InvalidInputError("name: must not be empty")
    held = store.get_account(account.id)
    if held is not None and held.currency != account.currency:
        count = len(store.list_transactions(account=account.id))
        if count:
            raise InvalidInputError(
                f"currency: account {account.id!r} holds {count} transactions in "
                f"{held.currency}; its currency cannot change"
            )
    store.put_account(account)
    return _account(account)


def delete_account(services: Services, account_id: str) -> PortfolioDeleteResponse:
    """404 if unknown; 422 while transactions name it (the answer says how many), as the
    other refusals that depend on what is stored (a currency change, a needed transaction)."""
    services.portfolio.delete_account(_text(account_id, "account_id"))
    return PortfolioDeleteResponse(message="Account deleted", id=account_id)


# --- transactions --------------------------------------------------------------------------


def list_transactions(
    services: Services, account: str | None, start: str | None, end: str | None
) -> TransactionListResponse:
    """Dated ``start`` to ``end`` (both inclusive, open if left out), by date then id."""
    if account is not None:
        _stored_account(services, account)
    first, last = _day(start, "start"), _day(end, "end")
    if first is not None and last is not None and first > last:
        raise InvalidInputError("start: must not be after end")
    entries = services.portfolio.store.list_transactions(account, first, last)
    return TransactionListResponse(
        transactions=[_transaction(entry) for entry in entries], total=len(entries)
    )


def delete_transaction(services: Services, transaction_id: str) -> PortfolioDeleteResponse:
    """Refused (422) if the ledger without it would be wrong: a sale left with no units to
    sell, for one; the message names that transaction."""
    store = services.portfolio.store
    entries = store.list_transactions()
    if not any(entry.id == transaction_id for entry in entries):
        raise NotFoundError(f"no transaction with id {transaction_id!r}")
    try:
        ledger(entry.transaction for entry in entries if entry.id != transaction_id)
    except InvalidInputError as error:
        raise InvalidInputError(
            f"transaction {transaction_id!r} cannot be deleted: without it, {error.message}"
        ) from None
    store.delete_transaction(transaction_id)
    return PortfolioDeleteResponse(message="Transaction deleted", id=transaction_id)


# --- targets and settings ------------------------------------------------------------------


def get_targets(services: Services) -> TargetsResponse:
    return TargetsResponse(
        targets={
            dimension: {bucket: exact(share) or "0" for bucket, share in weights.shares.items()}
            for dimension, weights in services.portfolio.store.targets().items()
            if weights.known
        }
    )


def put_target(services: Services, dimension: str, body: TargetPut) -> TargetsResponse:
    weights = {
        _text(bucket, "weights"): _decimal(share, f"weights.{bucket}")
        for bucket, share in body.weights.items()
    }
    services.portfolio.set_target(dimension, weights)
    return get_targets(services)


def get_settings(services: Services) -> SettingsBody:
    return settings_body(services.portfolio.settings())


def put_settings(services: Services, body: SettingsPut) -> SettingsBody:
    spending = body.monthly_spending
    plan = body.projection or ProjectionSettingsPut.model_validate({})
    updated = services.portfolio.update_settings(
        base_currency=None if body.base_currency is None else _text(body.base_currency, "base"),
        monthly_spending=None if spending is None else _decimal(spending, "monthly_spending"),
        stale_price_days=body.stale_price_days,
        birth_year=plan.birth_year,
        retirement_age=plan.retirement_age,
        end_age=plan.end_age,
        contribution=_maybe_decimal(plan.contribution, "projection.contribution"),
        contribution_growth=_maybe_decimal(
            plan.contribution_growth, "projection.contribution_growth"
        ),
        spending=_maybe_decimal(plan.spending, "projection.spending"),
        fee=_maybe_decimal(plan.fee, "projection.fee"),
    )
    return settings_body(updated)


def settings_body(settings: PortfolioSettings) -> SettingsBody:
    spending = settings.monthly_spending
    plan = settings.projection
    return SettingsBody(
        base_currency=settings.base_currency,
        monthly_spending=None if spending is None else str(spending),
        stale_price_days=settings.stale_price_days,
        projection=ProjectionSettingsBody(
            birth_year=plan.birth_year,
            retirement_age=plan.retirement_age,
            end_age=plan.end_age,
            contribution=exact(plan.contribution),
            contribution_growth=exact(plan.contribution_growth),
            spending=exact(plan.spending),
            fee=exact(plan.fee),
        ),
    )


# --- proposed classifications ----------------------------------------------------------------
# Proposing needs a chat model, so it is not a route: `alex portfolio classify` locally, or the
# analysis job (docs/planner.md, "Classify"). Listing, accepting and rejecting are, everywhere.


def list_classifications(services: Services) -> ClassificationListResponse:
    """The proposals waiting for the user, by symbol."""
    proposals = services.portfolio.classifications.proposals()
    return ClassificationListResponse(proposals=proposal_bodies(services, proposals))


def accept_classification(services: Services, symbol: str) -> ClassificationDecision:
    """The proposal's weights become the instrument's (for the dimensions it still has
    unknown); 404 if ``symbol`` has no proposal."""
    accepted = services.portfolio.classifications.accept(_text(symbol, "symbol"))
    return ClassificationDecision(
        message="Proposal accepted"
        if accepted.applied
        else "Proposal dropped: the instrument has its own weights for everything it proposed",
        symbol=accepted.symbol,
        applied=list(accepted.applied),
        kept=list(accepted.kept),
    )


def reject_classification(services: Services, symbol: str) -> ClassificationDecision:
    """Drop the proposal; the instrument stays as it is. 404 if ``symbol`` has none."""
    rejected = services.portfolio.classifications.reject(_text(symbol, "symbol"))
    return ClassificationDecision(
        message="Proposal rejected", symbol=rejected.symbol, applied=[], kept=[]
    )


def proposal_bodies(
    services: Services, proposals: list[ProposedClassification]
) -> list[ProposalBody]:
    """The proposals as answers, with their instruments' names."""
    store = services.portfolio.store
    names = {i.symbol: i.name for i in store.list_instruments()} if proposals else {}
    return [ProposalBody.model_validate(proposal_json(p, names.get(p.symbol))) for p in proposals]


# --- shaping and checking ------------------------------------------------------------------


def _report(report: ImportReport) -> ImportReportBody:
    return ImportReportBody.model_validate(import_json(report))


def _account(account: Account) -> AccountBody:
    return AccountBody.model_validate(dataclasses.asdict(account))


def _stored_account(services: Services, account_id: str) -> Account:
    account = services.portfolio.store.get_account(_text(account_id, "account"))
    if account is None:
        raise NotFoundError(f"no account with id {account_id!r}")
    return account


def _transaction(entry: RecordedTransaction) -> TransactionBody:
    t = entry.transaction
    return TransactionBody(
        id=entry.id,
        date=t.date.isoformat(),
        account=t.account,
        type=t.type.value,
        symbol=t.symbol,
        quantity=format(t.quantity, "f"),
        unit_price=format(t.unit_price, "f"),
        fee=format(t.fee, "f"),
        currency=t.currency,
        note=t.note,
    )


def _text(value: str, what: str) -> str:
    """``value`` if it is text a store can keep: JSON may carry lone UTF-16 surrogates
    (``\\ud800``), which no UTF-8 column can hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(f"{what}: not valid Unicode text (a lone surrogate)") from None
    return value


def _decimal(raw: str, what: str) -> Decimal:
    try:
        return fields.number(_text(raw, what))
    except fields.FieldError as error:
        raise InvalidInputError(f"{what}: {error}") from None


def _maybe_decimal(raw: str | None, what: str) -> Decimal | None:
    return None if raw is None else _decimal(raw, what)


def _day(raw: str | None, what: str) -> date | None:
    """A YYYY-MM-DD day; whether a future one is allowed is the use case's business."""
    if raw is None:
        return None
    try:
        return fields.iso_date(_text(raw, what), date.max)
    except fields.FieldError as error:
        raise InvalidInputError(f"{what}: {error}") from None
