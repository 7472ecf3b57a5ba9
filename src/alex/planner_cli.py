"""``alex analyse`` and ``alex reports``: the planner's commands (docs/planner.md, "Doors").

Both go through the CLI's client (``alex.client``): the local store, or with ``--endpoint``
(or ALEX_API_ENDPOINT) the keyed API (``POST /analysis/jobs`` followed to its end,
``GET /reports``), so ``--json`` prints the API's bodies either way. A report's text came
from a model: it is printed as plain text through ``alex.terminal`` (controls made visible,
no markup, no terminal hyperlinks).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from alex.client import open_client
from alex.domain.errors import AnalysisFailedError, ConfigError
from alex.http.planner_schemas import AnalysisJobResponse, ReportBody, ReportListQuery
from alex.terminal import safe_json, safe_text, visible

console = Console(emoji=False)
errors = Console(stderr=True, emoji=False)

reports_app = typer.Typer(help="List and show the stored analysis reports.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        help="Use this Alex API instead of the local store. Default: ALEX_API_ENDPOINT, if set.",
    ),
]
_STYLES = {"done": "green", "skipped": "dim", "failed": "red"}


def _print_json(value: Any) -> None:
    sys.stdout.write(safe_json(value) + "\n")


def analyse(
    as_json: JsonOption = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Also write the report here: report.md, report.html (opens from disk, draws "
            "the charts offline) and charts/*.svg and .png (with the charts extra).",
            file_okay=False,
        ),
    ] = None,
    endpoint: EndpointOption = None,
) -> None:
    """Analyse the portfolio: classify unknown instruments (as proposals), compute every
    figure, recall notes, have the writers write a report, check every number in it against
    the figures, and store it (where `alex reports` and `alex search` find it)."""
    with open_client(endpoint) as client, console.status("starting", spinner="dots") as spinner:

        def progress(step: str, status: str, detail: str) -> None:
            if status in _STYLES:
                style = _STYLES[status]
                console.print(
                    f"[{style}]{step:>8} {status}[/{style}] {safe_text(detail)}", soft_wrap=True
                )
            spinner.update(f"{safe_text(step)}: {safe_text(detail)}")

        job = client.analyse(progress)
        report = client.get_report(job.report_id) if job.report_id else None
    if job.status != "succeeded" or report is None:
        raise AnalysisFailedError(job.error.message if job.error else "The analysis failed")
    if out is not None:
        _write(out, report)
    if as_json:
        _print_json({"job": job.model_dump(mode="json"), "report": report.model_dump(mode="json")})
    else:
        _print_report(job, report)


def _print_report(job: AnalysisJobResponse, report: ReportBody) -> None:
    console.print(Text(visible(report.markdown, multiline=True)), soft_wrap=True)
    check = report.check
    console.print(
        f"[dim]checked {check.numbers_checked} numbers against the figures: "
        f"{check.removed} sentences removed, {check.contradictions} actions removed[/dim]"
    )
    console.print(
        f"stored as report {safe_text(report.report_id)} ({safe_text(report.model)}), "
        f"job {safe_text(job.job_id)}"
    )


def _write(folder: Path, report: ReportBody) -> None:
    from alex.planner.render import write_report

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.md").write_text(report.markdown, encoding="utf-8")
    try:
        files = write_report(folder, report.charts, title=report.title, markdown=report.markdown)
    except ConfigError as error:  # no vl-convert: the HTML page draws the charts itself
        errors.print(f"[yellow]no SVG or PNG charts:[/yellow] {safe_text(error.message)}")
        files = write_report(
            folder, report.charts, title=report.title, markdown=report.markdown, images=False
        )
    console.print(
        f"wrote {safe_text(folder / 'report.md')}, {safe_text(files.html)} "
        f"and {len(files.images)} chart images"
    )


@reports_app.command("list")
def reports_list(
    limit: Annotated[int, typer.Option(help="How many, newest first (1 to 100).")] = 20,
    before: Annotated[str | None, typer.Option(help="Start after this report id.")] = None,
    as_json: JsonOption = False,
    endpoint: EndpointOption = None,
) -> None:
    """Stored reports, newest first."""
    query = ReportListQuery(limit=limit, before=before)
    with open_client(endpoint) as client:
        answer = client.list_reports(query)
    if as_json:
        _print_json(answer.model_dump(mode="json"))
        return
    table = Table("id", "created", "title", "model", "checked", "removed")
    for summary in answer.reports:
        table.add_row(
            Text(visible(summary.report_id)),
            Text(visible(summary.created[:19])),
            Text(visible(summary.title)),
            Text(visible(summary.model)),
            str(summary.check.numbers_checked),
            str(summary.check.removed + summary.check.contradictions),
        )
    console.print(table)
    if answer.next_before:
        console.print(f"[dim]more: --before {safe_text(answer.next_before)}[/dim]")


@reports_app.command("show")
def reports_show(
    report_id: Annotated[str, typer.Argument(help="The report's id (alex reports list).")],
    as_json: JsonOption = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Also write it as files (as alex analyse --out).", file_okay=False
        ),
    ] = None,
    endpoint: EndpointOption = None,
) -> None:
    """One report: its text (and with --json its figures and charts)."""
    with open_client(endpoint) as client:
        report = client.get_report(report_id)
    if out is not None:
        _write(out, report)
    if as_json:
        _print_json(report.model_dump(mode="json"))
    else:
        console.print(Text(visible(report.markdown, multiline=True)), soft_wrap=True)
