"""Charts in the pages: a Vega-Lite spec from :mod:`alex.planner.charts` as what the
``_chart.html`` partial needs (the spec as a JSON data block, its table from
``chart_table``), and the chart files served to the pages.

The files are the package's one copy in ``alex/http/static`` (the vendored Vega, Vega-Lite
and vega-embed builds in ``vendor/``, ``charts/alex-charts.js`` that draws them), the same
files the standalone report copies (:mod:`alex.planner.render`): mounted at
``/chart-assets``, not copied into ``web/static``. Like the rest of ``alex.web`` they stay out
of the Lambda zips (``http/static`` and ``web`` are ``LOCAL_ONLY`` in
``services/common/build_lambda.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup

from alex.planner.charts import Spec, chart_table
from alex.planner.render import NUMERIC_KINDS, STATIC, json_block, spec_title

ASSETS_PATH = "/chart-assets"
ASSETS_NAME = "chart_assets"


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool


@dataclass(frozen=True)
class ChartView:
    """One chart as a page shows it: ``id`` names its JSON block (``chart-<name>``), which
    ``alex-charts.js`` draws into the element whose ``data-chart`` is that id."""

    id: str
    title: str
    description: str
    spec_json: Markup
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def chart_view(name: str, spec: Spec) -> ChartView:
    """``spec`` (named ``name``: letters, digits, ``_``) ready for ``_chart.html``."""
    columns, rows = chart_table(spec)
    kinds = [column["kind"] for column in spec["usermeta"]["alex"]["table"]]
    # Markup, so Jinja does not entity-escape it: inside <script> entities are not decoded.
    # json_block escapes <, > and & as \u003c..., so no text in it can end the element.
    return ChartView(
        id=f"chart-{name}",
        title=spec_title(spec),
        description=str(spec.get("description", "")),
        spec_json=Markup(json_block(spec)),  # noqa: S704 (escaped for a data block above)
        columns=tuple(columns),
        rows=tuple(
            tuple(Cell(text, kind in NUMERIC_KINDS) for text, kind in zip(row, kinds, strict=True))
            for row in rows
        ),
    )


router = APIRouter(include_in_schema=False)
router.mount(ASSETS_PATH, StaticFiles(directory=STATIC), name=ASSETS_NAME)
