"""Reports: what an analysis job leaves (``docs/planner.md``, "Jobs and reports").

A :class:`Report` is the Markdown the writers produced (after the number check), the figure
set it was written from (a JSON object: every number the code computed, by name), the charts
drawn from those figures (name -> Vega-Lite spec), the check's counts, the model's name and
the job that made it. A :class:`ReportSummary` is the same without the three large parts:
what a list shows.

Every store keeps a report the same way: the summary's fields as they are, and the large
parts as one *body*, :func:`report_body`: strict JSON (no NaN, no Decimal: a figure set is
stored as the numbers it holds), UTF-8, zlib-compressed. A body over
:data:`MAX_STORED_REPORT_BYTES` is refused by every store with a PayloadTooLargeError (413)
that gives both sizes: DynamoDB's items stop at 400 KB, and a local file keeps what the
cloud can (``docs/planner.md`` measures the sample household's report).

Public API: :class:`Report`, :class:`ReportCheck`, :class:`ReportSummary`,
:func:`new_report_id`, :func:`report_body`, :func:`report_from_body`,
:data:`MAX_STORED_REPORT_BYTES`, :data:`MAX_TITLE_CHARS`, :data:`MAX_MODEL_CHARS`.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alex.domain.errors import InvalidInputError, PayloadTooLargeError
from alex.planner.jobs import is_record_id, new_record_id

MAX_STORED_REPORT_BYTES = 350_000
"""Most bytes of a report's compressed body: DynamoDB's 400 KB item limit, less room for the
summary's attributes and names (at most a few KB)."""
MAX_TITLE_CHARS = 200
MAX_MODEL_CHARS = 200
_ZLIB_LEVEL = 6  # zlib's default: level 9 saved under 1% on chart JSON, at twice the time

JsonObject = Mapping[str, Any]


@dataclass(frozen=True)
class ReportCheck:
    """What the number check did to the text: numbers it checked, sentences it removed or
    flagged (numbers that match no figure), actions that contradicted the figures."""

    numbers_checked: int = 0
    removed: int = 0
    flagged: int = 0
    contradictions: int = 0


@dataclass(frozen=True)
class ReportSummary:
    """A report without its Markdown, figures and charts: one line of a list."""

    id: str
    created: datetime
    title: str
    model: str
    job_id: str
    check: ReportCheck


@dataclass(frozen=True)
class Report:
    id: str
    created: datetime
    title: str
    markdown: str
    figures: JsonObject
    """The figure set the text was written from, as JSON (names -> numbers and texts)."""
    charts: Mapping[str, JsonObject]
    """Chart name -> Vega-Lite spec (JSON), drawn by code from ``figures``."""
    check: ReportCheck
    model: str
    job_id: str

    @property
    def summary(self) -> ReportSummary:
        return ReportSummary(self.id, self.created, self.title, self.model, self.job_id, self.check)


def new_report_id(created: datetime) -> str:
    """An id that sorts by ``created`` (``alex.planner.jobs.new_record_id``)."""
    return new_record_id(created)


def _check_summary(report: Report) -> None:
    if not is_record_id(report.id):
        raise InvalidInputError(f"report id {report.id!r} is not 32 hex digits")
    if not is_record_id(report.job_id):
        raise InvalidInputError(f"report job_id {report.job_id!r} is not 32 hex digits")
    if report.created.tzinfo is None:
        raise InvalidInputError("report created must be an aware time (UTC)")
    for field, text, limit in (
        ("title", report.title, MAX_TITLE_CHARS),
        ("model", report.model, MAX_MODEL_CHARS),
    ):
        if not text.strip() or len(text) > limit:
            raise InvalidInputError(f"report {field} must be 1 to {limit} characters")
    for field, count in vars(report.check).items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidInputError(f"report check.{field} must be a whole number >= 0")


def report_body(report: Report) -> bytes:
    """The report's Markdown, figures and charts as every store keeps them (see the module's
    docstring), after checking the whole report. Raises InvalidInputError naming the field
    (figures or charts that are not strict JSON), PayloadTooLargeError over the limit."""
    _check_summary(report)
    try:
        text = json.dumps(
            {"markdown": report.markdown, "figures": report.figures, "charts": report.charts},
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        )
    except (TypeError, ValueError) as error:
        raise InvalidInputError(
            f"report figures and charts must be JSON (numbers, texts, lists, objects): {error}"
        ) from None
    body = zlib.compress(text.encode("utf-8"), _ZLIB_LEVEL)
    if len(body) > MAX_STORED_REPORT_BYTES:
        raise PayloadTooLargeError(
            f"The report is {len(body):,} bytes compressed ({len(text):,} characters of "
            f"Markdown, figures and charts); a stored report holds at most "
            f"{MAX_STORED_REPORT_BYTES:,}. Nothing was stored: draw fewer points per chart."
        )
    return body


def report_from_body(summary: ReportSummary, body: bytes) -> Report:
    parts = json.loads(zlib.decompress(body).decode("utf-8"))
    return Report(
        id=summary.id,
        created=summary.created,
        title=summary.title,
        markdown=parts["markdown"],
        figures=parts["figures"],
        charts=parts["charts"],
        check=summary.check,
        model=summary.model,
        job_id=summary.job_id,
    )
