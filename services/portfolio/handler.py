"""Alex's portfolio on AWS Lambda: every keyed portfolio route but the projection.

Thin, as ``services/search/handler.py``: ``lambda_http`` reads the API Gateway event and maps
errors; each route validates its input with the API's models and calls
``alex.http.portfolio_operations``, as the FastAPI app does. ``POST /portfolio/projection``
is not here: it needs numpy, which would take the zip over its 6 MB target, so the
researcher's container image (services/researcher, which has numpy) serves it on the same API
(docs/portfolio.md, "In the cloud"). The services are built once per container.
"""

from __future__ import annotations

from typing import Literal

from lambda_http import Event, LambdaDoor, LambdaRequest, Response, Routes
from pydantic import BaseModel, Field

from alex.config import load_settings
from alex.http import portfolio_operations as portfolio
from alex.http.portfolio_schemas import (
    AccountPut,
    PortfolioImportBody,
    PriceBody,
    PricesImportBody,
    SettingsPut,
    TargetPut,
)
from alex.services import Services

door = LambdaDoor(lambda: Services(load_settings()))


# The query strings the FastAPI app declares on these routes (alex.http.app), as models.
class AsOfQuery(BaseModel):
    as_of: str | None = Field(None, max_length=10)


class ExportQuery(BaseModel):
    format: Literal["alex", "ghostfolio"] = "alex"
    what: Literal["accounts", "instruments", "fx", "prices", "transactions"] = "transactions"


class TransactionsQuery(BaseModel):
    account: str | None = Field(None, max_length=64)
    start: str | None = Field(None, max_length=10)
    end: str | None = Field(None, max_length=10)


def show(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.portfolio_show(services, request.query(AsOfQuery).as_of)


def import_files(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.portfolio_import(services, request.body(PortfolioImportBody))


def export(services: Services, request: LambdaRequest) -> BaseModel:
    query = request.query(ExportQuery)
    return portfolio.portfolio_export(services, query.format, query.what)


def xray(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.portfolio_xray(services, request.query(AsOfQuery).as_of)


def import_prices(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.prices_import(services, request.body(PricesImportBody))


def set_price(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.prices_set(services, request.body(PriceBody))


def list_accounts(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.list_accounts(services)


def get_account(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.get_account(services, request.path("account_id"))


def put_account(services: Services, request: LambdaRequest) -> BaseModel:
    body = request.body(AccountPut)
    return portfolio.put_account(services, request.path("account_id"), body)


def delete_account(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.delete_account(services, request.path("account_id"))


def list_transactions(services: Services, request: LambdaRequest) -> BaseModel:
    query = request.query(TransactionsQuery)
    return portfolio.list_transactions(services, query.account, query.start, query.end)


def delete_transaction(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.delete_transaction(services, request.path("transaction_id"))


def targets(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.get_targets(services)


def put_target(services: Services, request: LambdaRequest) -> BaseModel:
    body = request.body(TargetPut)
    return portfolio.put_target(services, request.path("dimension"), body)


def settings(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.get_settings(services)


def put_settings(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.put_settings(services, request.body(SettingsPut))


# Proposed classifications: listed, accepted and rejected here; proposing needs a chat model,
# which this zip has none of (docs/planner.md, "Classify").
def classifications(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.list_classifications(services)


def accept_classification(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.accept_classification(services, request.path("symbol"))


def reject_classification(services: Services, request: LambdaRequest) -> BaseModel:
    return portfolio.reject_classification(services, request.path("symbol"))


ROUTES: Routes = {
    ("GET", "/portfolio"): show,
    ("POST", "/portfolio/import"): import_files,
    ("GET", "/portfolio/export"): export,
    ("GET", "/portfolio/xray"): xray,
    ("POST", "/prices"): import_prices,
    ("PUT", "/prices"): set_price,
    ("GET", "/portfolio/accounts"): list_accounts,
    ("GET", "/portfolio/accounts/{account_id}"): get_account,
    ("PUT", "/portfolio/accounts/{account_id}"): put_account,
    ("DELETE", "/portfolio/accounts/{account_id}"): delete_account,
    ("GET", "/portfolio/transactions"): list_transactions,
    ("DELETE", "/portfolio/transactions/{transaction_id}"): delete_transaction,
    ("GET", "/portfolio/targets"): targets,
    ("PUT", "/portfolio/targets/{dimension}"): put_target,
    ("GET", "/portfolio/settings"): settings,
    ("PUT", "/portfolio/settings"): put_settings,
    ("GET", "/portfolio/classifications"): classifications,
    ("POST", "/portfolio/classifications/{symbol}/accept"): accept_classification,
    ("POST", "/portfolio/classifications/{symbol}/reject"): reject_classification,
}


def handler(event: Event, context: object) -> Response:
    return door.handle(event, ROUTES)
