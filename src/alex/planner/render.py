"""Chart specs (:mod:`alex.planner.charts`) as SVG and PNG files and a standalone HTML report
that draws them offline (docs/planner.md, "Charts").

* SVG and PNG: vl-convert (the ``charts`` extra: Vega-Lite and Vega run in an embedded Deno,
  text drawn with its bundled fonts; no browser, no network: ``allowed_base_urls`` is empty,
  so a spec could not fetch anything even if it named a URL). Imported on first use, so the
  rest of Alex never loads it; without the extra :func:`render_svg` and :func:`render_png`
  raise :class:`~alex.domain.errors.ConfigError` naming it.
* HTML: :func:`report_html` writes a page with each chart's spec in a JSON data block
  (``<script type="application/json">``, never executed), a table of the same data under each
  chart, and script files only from beside it: the vendored Vega, Vega-Lite and vega-embed
  builds and ``alex-charts.js``, which draws with vega-embed's expression interpreter
  (``ast: true``). Its Content-Security-Policy (``script-src 'self'``, no ``'unsafe-eval'``,
  ``default-src 'none'``) holds in the browser: nothing is fetched from anywhere, nothing is
  evaluated from a string, no inline script runs. :func:`write_report` writes it with its
  ``assets/`` folder (copied from ``alex/http/static``, the files the web pages serve) and,
  when asked, ``charts/<name>.svg`` and ``.png``; the folder opens from disk.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alex.domain.errors import ConfigError, InvalidInputError
from alex.planner.charts import Spec, chart_table

# vl-convert's name for the Vega-Lite it runs (6.4.1, as charts.SCHEMA says).
VL_CONVERT_VERSION = "6.4"
# The package's static files (the vendored builds and the report's own script and style).
STATIC = Path(__file__).resolve().parents[1] / "http" / "static"
ASSETS = (
    ("vendor", "vega.min.js"),
    ("vendor", "vega-lite.min.js"),
    ("vendor", "vega-embed.min.js"),
    ("charts", "alex-charts.js"),
    ("charts", "report.css"),
)
SCRIPTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "alex-charts.js")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'"
)
_NAME = re.compile(r"^[a-z0-9_]{1,64}$")
# chart_table's column kinds that are numbers (right-aligned in a table).
NUMERIC_KINDS = frozenset({"money", "percent", "points", "integer"})


def _converter() -> Any:
    try:
        import vl_convert
    except ImportError:
        raise ConfigError(
            "SVG and PNG charts need vl-convert: `uv sync --extra charts` "
            "(or `pip install 'alex[charts]'`); the HTML report draws them without it"
        ) from None
    return vl_convert


def render_svg(spec: Spec) -> str:
    """The chart as an SVG document (text as ``<text>``: titles and labels searchable)."""
    converter = _converter()
    svg: str = converter.vegalite_to_svg(spec, vl_version=VL_CONVERT_VERSION, allowed_base_urls=[])
    return svg


def render_png(spec: Spec, scale: float = 2.0) -> bytes:
    """The chart as a PNG, ``scale`` pixels per CSS pixel (2: sharp on high-density screens)."""
    converter = _converter()
    png: bytes = converter.vegalite_to_png(
        spec, vl_version=VL_CONVERT_VERSION, scale=scale, allowed_base_urls=[]
    )
    return png


def json_block(spec: Spec) -> str:
    """The spec as the text of a JSON data block: ``$schema`` dropped (the page runs its own
    Vega-Lite; the schema's address is not something to fetch), and ``<``, ``>``, ``&``
    escaped so no text inside can close the element."""
    embedded = {key: value for key, value in spec.items() if key != "$schema"}
    text = json.dumps(embedded, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def spec_title(spec: Spec) -> str:
    title = spec.get("title")
    return str(title.get("text", "") if isinstance(title, dict) else title or "")


def _table(spec: Spec, caption: str) -> str:
    columns, rows = chart_table(spec)
    kinds = [column["kind"] for column in spec["usermeta"]["alex"]["table"]]
    head = "".join(f'<th scope="col">{html.escape(title)}</th>' for title in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="number">{html.escape(cell)}</td>'
            if kind in NUMERIC_KINDS
            else f"<td>{html.escape(cell)}</td>"
            for cell, kind in zip(row, kinds, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f"<table><caption>{html.escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def report_html(
    title: str,
    charts: Mapping[str, Spec],
    *,
    assets: str = "assets",
    images: Mapping[str, str] | None = None,
    markdown: str = "",
) -> str:
    """The standalone page: the report's text (``markdown``, see :func:`markdown_html`), then
    one figure per chart (drawn by script, its data as a table under
    it, and, when ``images`` maps the chart's name to an image file, that image for readers
    without script). ``assets`` is the folder of :data:`ASSETS`, relative to the page."""
    sections = []
    for name, spec in charts.items():
        if not _NAME.match(name):
            raise InvalidInputError(f"chart name {name!r}: lower-case letters, digits and _")
        chart_title = spec_title(spec)
        block = f"chart-{name}"
        image = ""
        if images and name in images:
            source = html.escape(images[name])
            image = f'<noscript><img src="{source}" alt="{html.escape(chart_title)}"></noscript>'
        sections.append(
            f'<figure aria-labelledby="{block}-title">'
            f'<h2 id="{block}-title">{html.escape(chart_title)}</h2>'
            f'<div class="chart" data-chart="{block}"></div>{image}'
            f"<figcaption>{html.escape(str(spec.get('description', '')))}</figcaption>"
            f"<details><summary>The chart's data as a table</summary>"
            f"{_table(spec, chart_title)}</details>"
            f'<script type="application/json" id="{block}">{json_block(spec)}</script>'
            "</figure>"
        )
    base = html.escape(assets.rstrip("/"))
    scripts = "".join(f'<script src="{base}/{name}"></script>' for name in SCRIPTS)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        f'<link rel="stylesheet" href="{base}/report.css"></head>'
        f"<body><main><h1>{html.escape(title)}</h1>{markdown_html(markdown)}"
        f"{''.join(sections)}</main>"
        f"{scripts}</body></html>\n"
    )


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    assets: tuple[Path, ...]
    images: tuple[Path, ...]  # charts/<name>.svg and .png, in chart order


def markdown_html(markdown: str) -> str:
    """A report's Markdown as HTML (CommonMark, markdown-it): raw HTML in it is escaped,
    never passed through, images left as links (nothing is loaded), and its first-level
    heading dropped (the page has its own)."""
    from markdown_it import MarkdownIt

    body = "\n".join(line for line in markdown.splitlines() if not line.startswith("# "))
    # No images: a model's ![](https://...) would be fetched by a viewer without the CSP.
    rendered: str = MarkdownIt("commonmark", {"html": False}).disable("image").render(body)
    return f'<section class="report-text">{rendered}</section>' if body.strip() else ""


def write_report(
    folder: Path,
    charts: Mapping[str, Spec],
    *,
    title: str,
    images: bool = True,
    markdown: str = "",
) -> ReportFiles:
    """``folder/report.html`` with ``folder/assets/`` and, if ``images``, each chart as
    ``folder/charts/<name>.svg`` and ``.png`` (needs the ``charts`` extra). Files of the same
    names are replaced; nothing else in ``folder`` is touched."""
    if images:
        _converter()  # refuse before writing anything
    assets_dir = folder / "assets"
    assets_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for part, name in ASSETS:
        copied.append(Path(shutil.copyfile(STATIC / part / name, assets_dir / name)))
    written: list[Path] = []
    shown: dict[str, str] = {}
    if images:
        charts_dir = folder / "charts"
        charts_dir.mkdir(exist_ok=True)
        for name, spec in charts.items():
            if not _NAME.match(name):
                raise InvalidInputError(f"chart name {name!r}: lower-case letters, digits and _")
            svg, png = charts_dir / f"{name}.svg", charts_dir / f"{name}.png"
            svg.write_text(render_svg(spec), encoding="utf-8")
            png.write_bytes(render_png(spec))
            written += [svg, png]
            shown[name] = f"charts/{name}.svg"
    page = folder / "report.html"
    page.write_text(report_html(title, charts, images=shown, markdown=markdown), encoding="utf-8")
    return ReportFiles(page, tuple(copied), tuple(written))
