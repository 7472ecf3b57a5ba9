"""The retirement page: the projection's fan chart and success probability, from inputs the
user can change and recompute (an htmx partial swap, or a plain form post without script),
and save as the settings' projection inputs (``PortfolioService.update_settings``).

The page calls the use cases the JSON API calls: ``PortfolioService.settings``,
``project`` (``POST /portfolio/projection``) and ``update_settings``
(``PUT /portfolio/settings``); the figures are ``projection_json``'s and the chart is
``alex.planner.charts.fan_chart``. A page view is two use-case calls (settings, then one
projection, which reads the portfolio once), whatever the holdings.

Units on the form are a person's, not the store's: growth and fee in per cent a year (the
settings keep fractions: 0.5 % is ``0.005``), money yearly in the base currency, and the
birth year (as the settings keep it; the age is ``this year - birth year``, as
``resolve_plan`` reckons it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from alex.domain.errors import InvalidInputError
from alex.http.portfolio_operations import MAX_CONTRIBUTION_GROWTH
from alex.planner.charts import fan_chart
from alex.portfolio.formats import fields
from alex.portfolio.model import MAX_AGE, PortfolioSettings
from alex.portfolio.service import ProjectionPlan, resolve_plan
from alex.portfolio.summary import projection_json
from alex.web.charts import chart_view
from alex.web.pages import FormSession, PageSession, page_services, render

HUNDRED = Decimal(100)
DEFAULT_PATHS = 10_000  # the projection's minimum and default (alex.portfolio.projection)
MAX_SEED = 2**32 - 1  # as POST /portfolio/projection


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    hint: str
    kind: str  # "year", "age", "money", "percent", "count"


FIELDS: tuple[Field, ...] = (
    Field("birth_year", "Birth year", "Your age is this year minus it.", "year"),
    Field("retirement_age", "Retirement age", "Contributions stop, spending starts.", "age"),
    Field("end_age", "End age", "The projection runs until this age.", "age"),
    Field("contribution", "Contribution a year", "Paid in each year until retirement.", "money"),
    Field("contribution_growth", "Contribution growth (% a year)", "0 keeps it flat.", "percent"),
    Field("spending", "Spending a year", "In retirement, in today's money.", "money"),
    Field("fee", "Fee (% a year)", "Charged on the whole value each year.", "percent"),
)
# The simulation's own inputs: shown under "Simulation", not saved in the settings.
SIMULATION: tuple[Field, ...] = (
    Field("seed", "Seed", "The same seed gives the same numbers.", "count"),
    Field("paths", "Paths", "10,000 to 100,000; more take longer.", "count"),
)
_LABELS = {field.name: field.label for field in (*FIELDS, *SIMULATION)}
# A use case's message names the field first: "fee: ...", "settings, field projection.fee: ..."
_NAMED = re.compile(r"^(?:settings, field projection\.)?([a-z_]+): ")


class FormError(Exception):
    """A form value refused: ``field`` (a form field's name, or None) and what to do."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Inputs:
    """The form's values, parsed. ``contribution_growth`` and ``fee`` are fractions."""

    birth_year: int
    retirement_age: int
    end_age: int
    contribution: Decimal
    contribution_growth: Decimal
    spending: Decimal
    fee: Decimal
    seed: int
    paths: int

    def plan(self, today: date) -> ProjectionPlan:
        return ProjectionPlan(
            current_age=today.year - self.birth_year,
            retirement_age=self.retirement_age,
            end_age=self.end_age,
            contribution=self.contribution,
            contribution_growth=self.contribution_growth,
            spending=self.spending,
            fee=self.fee,
        )


def _text(value: Decimal) -> str:
    """A decimal as a person types it: ``0.5``, ``40000``, never ``4E+4``."""
    return format(value.normalize(), "f") if value else "0"


def form_values(settings: PortfolioSettings, today: date) -> dict[str, str]:
    """The form filled from the stored inputs, else the projection's own defaults (the same
    ones ``resolve_plan`` takes for ``alex portfolio project``)."""
    full = resolve_plan(ProjectionPlan(), settings, today)
    birth = settings.projection.birth_year
    return {
        "birth_year": str(birth if birth is not None else today.year - full.current_age),
        "retirement_age": str(full.retirement_age),
        "end_age": str(full.end_age),
        "contribution": _text(full.contribution),
        "contribution_growth": _text(full.contribution_growth * HUNDRED),
        "spending": _text(full.spending),
        "fee": _text(full.fee * HUNDRED),
        "seed": "0",
        "paths": str(DEFAULT_PATHS),
    }


def _whole(values: Mapping[str, str], name: str, low: int, high: int) -> int:
    raw = values.get(name, "").strip()
    if not re.fullmatch(r"\d{1,10}", raw):
        raise FormError(name, f"{_LABELS[name]}: a whole number, from {low:,} to {high:,}")
    number = int(raw)
    if not low <= number <= high:
        raise FormError(name, f"{_LABELS[name]}: from {low:,} to {high:,} (got {number:,})")
    return number


def _number(values: Mapping[str, str], name: str) -> Decimal:
    try:
        return fields.number(values.get(name, ""))
    except fields.FieldError as error:
        raise FormError(name, f"{_LABELS[name]}: {error}") from None


def _percent(values: Mapping[str, str], name: str, below: Decimal, inclusive: bool) -> Decimal:
    share = _number(values, name)
    if share > below or (share == below and not inclusive):
        limit = f"at most {below}" if inclusive else f"below {below}"
        raise FormError(name, f"{_LABELS[name]}: {limit} (per cent a year; got {share})")
    return share / HUNDRED


def parse(values: Mapping[str, str], today: date) -> Inputs:
    """The form's text as :class:`Inputs`, or :class:`FormError` naming the first bad field.
    The checks a person can fix here; the use case checks the rest (its message is mapped
    to the field it names)."""
    birth_year = _whole(values, "birth_year", today.year - MAX_AGE, today.year)
    age = today.year - birth_year
    retirement_age = _whole(values, "retirement_age", 0, MAX_AGE)
    if retirement_age < age:
        raise FormError(
            "retirement_age",
            f"Retirement age: {retirement_age} is before your age this year ({age}); "
            f"if you have retired, give {age}",
        )
    end_age = _whole(values, "end_age", 1, MAX_AGE)
    if end_age <= max(age, retirement_age):
        raise FormError("end_age", f"End age: must be after {max(age, retirement_age)}")
    return Inputs(
        birth_year=birth_year,
        retirement_age=retirement_age,
        end_age=end_age,
        contribution=_number(values, "contribution"),
        contribution_growth=_percent(
            values, "contribution_growth", MAX_CONTRIBUTION_GROWTH * HUNDRED, inclusive=True
        ),
        spending=_number(values, "spending"),
        fee=_percent(values, "fee", HUNDRED, inclusive=False),
        seed=_whole(values, "seed", 0, MAX_SEED),
        paths=_whole(values, "paths", DEFAULT_PATHS, 100_000),
    )


def refused_on_field(error: InvalidInputError) -> FormError:
    """A use case's refusal, on the form field it names (current_age is the birth year's)."""
    message = str(error)
    found = _NAMED.match(message)
    name = found.group(1) if found else None
    name = "birth_year" if name == "current_age" else name
    if name in _LABELS:
        return FormError(name, f"{_LABELS[name]}: {message[found.end() :] if found else message}")
    return FormError(None, message)


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {field.name: str(form.get(field.name, "")) for field in (*FIELDS, *SIMULATION)}


def _page(
    request: Request,
    session: Any,
    values: Mapping[str, str],
    inputs: Inputs | None,
    *,
    saved: bool = False,
    error: FormError | None = None,
) -> Response:
    """The projection of ``inputs`` (None: the stored ones), as the whole page or, for an
    htmx request, the result part only. A refusal is 422 with the form as typed."""
    services = page_services(request)
    today = date.today()
    result = None
    if error is None:
        try:
            plan = inputs.plan(today) if inputs else None
            seed, paths = (inputs.seed, inputs.paths) if inputs else (0, DEFAULT_PATHS)
            result = services.portfolio.project(plan, seed=seed, paths=paths)
        except InvalidInputError as refused:
            error = refused_on_field(refused)
    context: dict[str, Any] = {
        "page": "retirement",
        "fields": FIELDS,
        "simulation": SIMULATION,
        "values": values,
        "error": error,
        "saved": saved,
        "figures": projection_json(result) if result else None,
        "inflation": _text(result.inputs.inflation * HUNDRED) if result else None,
        "fan": chart_view("projection", fan_chart(result)) if result else None,
    }
    status = 422 if error else 200
    partial = request.headers.get("hx-request") == "true"
    name = "retirement_result.html" if partial else "retirement.html"
    return render(request, name, session, status_code=status, **context)


router = APIRouter(include_in_schema=False)


@router.get("/retirement", name="retirement")
def retirement_page(request: Request, session: PageSession) -> Response:
    settings = page_services(request).portfolio.settings()
    values = form_values(settings, date.today())
    saved = request.query_params.get("saved") == "1"
    return _page(request, session, values, None, saved=saved)


@router.post("/retirement", name="retirement_recompute")
async def retirement_recompute(request: Request, session: FormSession) -> Response:
    """Recompute with the posted inputs; nothing is stored."""
    values = await _posted(request)
    try:
        inputs = parse(values, date.today())
    except FormError as error:
        return _page(request, session, values, None, error=error)
    return _page(request, session, values, inputs)


@router.post("/retirement/save", name="retirement_save")
async def retirement_save(request: Request, session: FormSession) -> Response:
    """Store the posted inputs as the settings' projection inputs (all or none), then show
    their projection. Without script: a redirect to the page (a reload posts nothing)."""
    values = await _posted(request)
    try:
        inputs = parse(values, date.today())
        page_services(request).portfolio.update_settings(
            birth_year=inputs.birth_year,
            retirement_age=inputs.retirement_age,
            end_age=inputs.end_age,
            contribution=inputs.contribution,
            contribution_growth=inputs.contribution_growth,
            spending=inputs.spending,
            fee=inputs.fee,
        )
    except FormError as error:
        return _page(request, session, values, None, error=error)
    except InvalidInputError as refused:
        return _page(request, session, values, None, error=refused_on_field(refused))
    if request.headers.get("hx-request") != "true":
        target = request.url_for("retirement").path
        return RedirectResponse(f"{target}?saved=1", status_code=303)
    return _page(request, session, values, inputs, saved=True)
