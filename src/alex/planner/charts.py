"""Charts built by code from the computed figures, as Vega-Lite specs (plain dicts). Pure.

No model draws a chart: each spec is written here from what the portfolio core computed,
and embeds its data (``data.values``), so a test, the report store and a reader can compare a
chart with the figures. Every number in ``data.values`` is the computed ``Decimal`` written
as its exact decimal string (``format(value, "f")``: ``Decimal(row["value"])`` gives the
figure back, digit for digit); ``data.format.parse`` tells Vega-Lite to read those strings as
numbers for drawing. Text fields (``label``) carry how a figure is shown.

The charts (:func:`portfolio_charts` names them):

* ``allocation_<dimension>``: bars of value by bucket (asset class, region, sector,
  currency), largest first, each labelled with its share; the part of unknown
  classification is its own bar, ``unknown``, in grey; positions with no price are named in
  the subtitle (they are in no bar);
* ``drift_<dimension>``: for each dimension with a target, diverging bars of share - target
  in percentage points (over target right, under left);
* ``value_over_time``: the value at each month end (:mod:`alex.portfolio.history`), points
  where a position had no price yet marked "partly valued" (their value is the priced part);
* ``projection``: the retirement projection's fan: the 10th-90th and 25th-75th percentile
  bands by age, the median line and the expected (mean-return) line, nominal.

``$schema`` names Vega-Lite 6.4.1: the version that vl-convert 1.9 (SVG and PNG,
:mod:`alex.planner.render`) and the vendored browser build (``alex/http/static/vendor``)
both run. :func:`chart_table` gives any of these specs as a table (column titles, rows of
text) for screen readers and pages without script.

    charts = portfolio_charts(view, history=history, projection=projection)
    columns, rows = chart_table(charts["allocation_asset_class"])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from alex.portfolio.allocation import Allocation, Dimension
from alex.portfolio.model import UNKNOWN, round_money

if TYPE_CHECKING:
    from alex.portfolio.history import ValueHistory
    from alex.portfolio.service import PortfolioProjection, PortfolioView

Spec = dict[str, Any]

VEGA_LITE_VERSION = "6.4.1"
SCHEMA = f"https://vega.github.io/schema/vega-lite/v{VEGA_LITE_VERSION}.json"
# The dimensions charted: the account split is a table's business, not a chart's.
CHARTED = (Dimension.ASSET_CLASS, Dimension.REGION, Dimension.SECTOR, Dimension.CURRENCY)
PERCENTILES = (10, 25, 50, 75, 90)  # as alex.portfolio.projection (not imported: numpy)

_WIDTH = 420
_BLUE, _GREY, _RED, _ORANGE = "#4c78a8", "#8c8c8c", "#c0392b", "#e67e22"
_NAMES = {
    Dimension.ASSET_CLASS: "asset class",
    Dimension.REGION: "region",
    Dimension.SECTOR: "sector",
    Dimension.CURRENCY: "currency",
    Dimension.ACCOUNT: "account",
}
# How chart_table shows each kind of column.
MONEY, PERCENT, POINTS, TEXT, INTEGER = "money", "percent", "points", "text", "integer"


def exact(value: Decimal) -> str:
    """The decimal as written in ``data.values``: every digit, no exponent."""
    return format(value, "f")


def _money_text(value: Decimal, currency: str) -> str:
    return f"{round_money(value, currency):,} {currency}"


def _columns(*columns: tuple[str, str, str]) -> list[dict[str, str]]:
    """(field, title, kind) for the table view, kept in ``usermeta`` (Vega-Lite ignores it)."""
    return [{"field": f, "title": t, "kind": k} for f, t, k in columns]


def _spec(
    *,
    title: str,
    subtitle: Sequence[str],
    description: str,
    rows: list[dict[str, Any]],
    numbers: Sequence[str],
    table: list[dict[str, str]],
    currency: str,
    body: Mapping[str, Any],
) -> Spec:
    spec: Spec = {
        "$schema": SCHEMA,
        "title": {"text": title, "subtitle": list(subtitle), "anchor": "start"},
        "description": description,
        "data": {
            "values": rows,
            "format": {"parse": {name: "number" for name in numbers}},
        },
        **body,
        "config": {"font": "Liberation Sans, Arial, Helvetica, sans-serif"},
        "usermeta": {"alex": {"table": table, "currency": currency}},
    }
    return spec


def allocation_chart(allocation: Allocation) -> Spec:
    """Value by bucket along one dimension, largest first; ``unknown`` is a grey bar."""
    currency = allocation.currency
    name = _NAMES[allocation.dimension]
    rows = [
        {
            "bucket": bucket.name,
            "value": exact(bucket.value),
            "share": exact(bucket.share),
            "label": f"{bucket.share}%",
            "kind": "unknown" if bucket.name == UNKNOWN else "classified",
        }
        for bucket in allocation.buckets
    ]
    subtitle = [f"Total {_money_text(allocation.total, currency)}"]
    if allocation.excluded:
        left_out = ", ".join(allocation.excluded)
        subtitle.append(f"Left out, no price or rate yet: {left_out}")
    body = {
        "width": _WIDTH,
        "height": {"step": 24},
        "encoding": {
            "y": {"field": "bucket", "type": "nominal", "sort": None, "title": None},
            "x": {
                "field": "value",
                "type": "quantitative",
                "title": f"Value ({currency})",
                "axis": {"format": ",.0f"},
            },
        },
        "layer": [
            {
                "mark": {"type": "bar"},
                "encoding": {
                    "color": {
                        "field": "kind",
                        "type": "nominal",
                        "scale": {"domain": ["classified", UNKNOWN], "range": [_BLUE, _GREY]},
                        "legend": None,
                    }
                },
            },
            {
                "mark": {"type": "text", "align": "left", "baseline": "middle", "dx": 4},
                "encoding": {"text": {"field": "label"}},
            },
        ],
    }
    return _spec(
        title=f"Allocation by {name}",
        subtitle=subtitle,
        description=f"Bar chart of the portfolio's value by {name}, in {currency}, with "
        "each bucket's share; the part with no classification is the bar 'unknown'.",
        rows=rows,
        numbers=("value", "share"),
        table=_columns(
            ("bucket", name.capitalize(), TEXT),
            ("value", f"Value ({currency})", MONEY),
            ("share", "Share (%)", PERCENT),
        ),
        currency=currency,
        body=body,
    )


def drift_chart(
    allocation: Allocation, targets: Mapping[str, Decimal], drift: Mapping[str, Decimal]
) -> Spec:
    """Share - target by bucket in percentage points: over target right, under left."""
    name = _NAMES[allocation.dimension]
    order = sorted(drift, key=lambda bucket: (-drift[bucket], bucket))
    rows = [
        {
            "bucket": bucket,
            "share": exact(allocation.share(bucket)),
            "target": exact(targets.get(bucket, Decimal(0))),
            "drift": exact(drift[bucket]),
            "label": f"{drift[bucket]:+} pp",
            "side": "over" if drift[bucket] > 0 else "under" if drift[bucket] < 0 else "on",
        }
        for bucket in order
    ]
    biggest = max(order, key=lambda bucket: (abs(drift[bucket]), bucket), default=None)
    # Room beyond the longest bars for their labels.
    low = min((*drift.values(), Decimal(0)))
    high = max((*drift.values(), Decimal(0)))
    pad = max(Decimal(1), (high - low) / 4)
    subtitle = ["Share minus target, in percentage points (pp)"]
    if biggest is not None:
        subtitle.append(f"Furthest from target: {biggest}, {drift[biggest]:+} pp")
    body = {
        "width": _WIDTH,
        "height": {"step": 24},
        "encoding": {"y": {"field": "bucket", "type": "nominal", "sort": None, "title": None}},
        "layer": [
            {
                "mark": {"type": "bar"},
                "encoding": {
                    "x": {
                        "field": "drift",
                        "type": "quantitative",
                        "title": "Drift (pp)",
                        "axis": {"format": "+.1f"},
                        "scale": {"domain": [float(low - pad), float(high + pad)], "nice": True},
                    },
                    "color": {
                        "field": "side",
                        "type": "nominal",
                        "scale": {
                            "domain": ["over", "under", "on"],
                            "range": [_ORANGE, _BLUE, _GREY],
                        },
                        "legend": {"title": None, "orient": "bottom", "values": ["over", "under"]},
                    },
                },
            },
            _drift_label({"field": "drift", "gte": 0}, "left", 4),
            _drift_label({"field": "drift", "lt": 0}, "right", -4),
            {"mark": {"type": "rule", "color": "#333"}, "encoding": {"x": {"datum": 0}}},
        ],
    }
    return _spec(
        title=f"Drift from target by {name}",
        subtitle=subtitle,
        description=f"Diverging bar chart of each {name}'s share minus its target, in "
        "percentage points: positive is over target, negative under.",
        rows=rows,
        numbers=("share", "target", "drift"),
        table=_columns(
            ("bucket", name.capitalize(), TEXT),
            ("share", "Share (%)", PERCENT),
            ("target", "Target (%)", PERCENT),
            ("drift", "Drift (pp)", POINTS),
        ),
        currency=allocation.currency,
        body=body,
    )


def _drift_label(where: dict[str, Any], align: str, dx: int) -> dict[str, Any]:
    """The drift's text at the end of its bar (outside it, on its side of zero)."""
    return {
        "transform": [{"filter": where}],
        "mark": {"type": "text", "baseline": "middle", "align": align, "dx": dx},
        "encoding": {
            "x": {"field": "drift", "type": "quantitative"},
            "text": {"field": "label"},
        },
    }


def history_chart(history: ValueHistory) -> Spec:
    """The value at each point of ``history``; points with an unpriced position marked."""
    currency = history.currency
    rows = [
        {
            "date": point.date.isoformat(),
            "value": exact(point.total.known),
            "status": "valued" if point.complete else "partly valued",
            "unpriced": len(point.total.unknown),
        }
        for point in history.points
    ]
    subtitle = [f"At each month end and on the last day, in {currency}"]
    partly = len(history.incomplete)
    if partly:
        subtitle.append(
            f"{partly} of {len(history.points)} points partly valued (a position had no price "
            "yet): the priced part only"
        )
    x = {
        "field": "date",
        "type": "temporal",
        "title": None,
        "scale": {"type": "utc"},
        "axis": {"format": "%b %Y", "labelAngle": 0},
    }
    y = {
        "field": "value",
        "type": "quantitative",
        "title": f"Value ({currency})",
        "axis": {"format": ",.0f"},
    }
    body = {
        "width": _WIDTH,
        "height": 240,
        "encoding": {"x": x, "y": y},
        "layer": [
            {
                # One line per status: a partly valued stretch is not joined to a valued one.
                "mark": {"type": "line", "point": {"filled": True, "size": 36}},
                "encoding": {
                    "color": {
                        "field": "status",
                        "type": "nominal",
                        "scale": {"domain": ["valued", "partly valued"], "range": [_BLUE, _RED]},
                        "legend": {"title": None, "orient": "bottom"},
                    },
                    "strokeDash": {
                        "field": "status",
                        "type": "nominal",
                        "scale": {"domain": ["valued", "partly valued"], "range": [[1, 0], [5, 3]]},
                        "legend": {"title": None, "orient": "bottom"},
                    },
                },
            }
        ],
    }
    return _spec(
        title="Value over time",
        subtitle=subtitle,
        description=f"Line chart of the portfolio's value in {currency} at each month end; "
        "points where a position had no price yet are marked partly valued.",
        rows=rows,
        numbers=("value", "unpriced"),
        table=_columns(
            ("date", "Date", TEXT),
            ("value", f"Value ({currency})", MONEY),
            ("status", "Status", TEXT),
            ("unpriced", "Positions without a price", INTEGER),
        ),
        currency=currency,
        body=body,
    )


def fan_chart(result: PortfolioProjection) -> Spec:
    """The projection's percentile bands by age, the median and the expected line."""
    currency = result.currency
    projection = result.projection
    fields = [f"p{p}" for p in PERCENTILES]
    rows = [
        {
            "age": str(row.age),
            **{f"p{p}": exact(row.percentiles[p]) for p in PERCENTILES},
            "expected": exact(row.expected),
        }
        for row in projection.rows()
    ]
    inputs = result.inputs
    subtitle = [
        f"{projection.paths:,} paths, nominal {currency}; retirement at {inputs.retirement_age}; "
        f"success {projection.success_probability:.1%}",
        "Bands: 10th-90th and 25th-75th percentiles; line: median; dashed: expected",
    ]
    x = {"field": "age", "type": "quantitative", "title": "Age", "scale": {"zero": False}}
    money_axis = {"format": ",.0f"}

    def band(low: str, high: str, opacity: float) -> dict[str, Any]:
        return {
            "mark": {"type": "area", "color": _BLUE, "opacity": opacity},
            "encoding": {
                "y": {
                    "field": low,
                    "type": "quantitative",
                    "title": f"Value ({currency})",
                    "axis": money_axis,
                },
                "y2": {"field": high},
            },
        }

    def line(field: str, dashed: bool) -> dict[str, Any]:
        mark: dict[str, Any] = {"type": "line", "color": _ORANGE if dashed else "#1f3b5a"}
        if dashed:
            mark["strokeDash"] = [6, 4]
        return {
            "mark": mark,
            "encoding": {"y": {"field": field, "type": "quantitative", "axis": money_axis}},
        }

    body = {
        "width": _WIDTH,
        "height": 260,
        "encoding": {"x": x},
        "layer": [
            band("p10", "p90", 0.2),
            band("p25", "p75", 0.35),
            line("p50", dashed=False),
            line("expected", dashed=True),
        ],
    }
    return _spec(
        title="Retirement projection",
        subtitle=subtitle,
        description=f"Fan chart of the projected value in {currency} by age: the 10th to "
        "90th and 25th to 75th percentile bands, the median and the expected value.",
        rows=rows,
        numbers=("age", *fields, "expected"),
        table=_columns(
            ("age", "Age", INTEGER),
            *((f"p{p}", f"{p}th percentile ({currency})", MONEY) for p in PERCENTILES),
            ("expected", f"Expected ({currency})", MONEY),
        ),
        currency=currency,
        body=body,
    )


def portfolio_charts(
    view: PortfolioView,
    *,
    history: ValueHistory | None = None,
    projection: PortfolioProjection | None = None,
) -> dict[str, Spec]:
    """Every chart of a report, by name (file-name safe), in the order a report shows them:
    allocation by each charted dimension, drift for each with a target, then the value over
    time and the projection when given."""
    charts: dict[str, Spec] = {}
    for dimension in CHARTED:
        charts[f"allocation_{dimension.value}"] = allocation_chart(view.allocations[dimension])
    for dimension in CHARTED:
        if dimension in view.drift:
            charts[f"drift_{dimension.value}"] = drift_chart(
                view.allocations[dimension], view.targets[dimension], view.drift[dimension]
            )
    if history is not None:
        charts["value_over_time"] = history_chart(history)
    if projection is not None:
        charts["projection"] = fan_chart(projection)
    return charts


def chart_table(spec: Spec) -> tuple[list[str], list[list[str]]]:
    """The chart's data as a table: column titles, then one row of display text per data row
    (money to the currency's minor unit with thousands separators, shares with %, drift
    signed in pp). Only for specs built here (the columns are in ``usermeta``)."""
    meta = spec["usermeta"]["alex"]
    columns: list[dict[str, str]] = meta["table"]
    currency: str = meta["currency"]
    rows = [
        [_cell(row.get(column["field"]), column["kind"], currency) for column in columns]
        for row in spec["data"]["values"]
    ]
    return [column["title"] for column in columns], rows


def _cell(value: object, kind: str, currency: str) -> str:
    if value is None:
        return ""
    if kind == TEXT:
        return str(value)
    number = Decimal(str(value))
    if kind == MONEY:
        return f"{round_money(number, currency):,}"
    if kind == PERCENT:
        return f"{number}%"
    if kind == POINTS:
        return f"{number:+} pp"
    return f"{number:,}"
