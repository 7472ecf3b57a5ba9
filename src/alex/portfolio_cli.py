"""``alex portfolio`` and ``alex prices``: the portfolio's commands. Each parses, calls one
use case of :class:`~alex.portfolio.service.PortfolioService` and prints.

Every command goes through the CLI's client (``alex.client``): the local store, or with
``--endpoint`` (or ALEX_API_ENDPOINT) the keyed API's portfolio routes. Both answer with the
routes' bodies (``alex.http.portfolio_schemas``), so ``--json`` prints the same either way.
Everything read from a file or a store goes through ``alex.terminal`` before it is printed.
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from rich.text import Text

from alex.client import open_client
from alex.domain.errors import InvalidInputError
from alex.http.portfolio_schemas import (
    ImportFile,
    PortfolioImportBody,
    PriceBody,
    PricesImportBody,
    ProjectionRequest,
    SettingsPut,
    TargetPut,
)
from alex.portfolio.allocation import Dimension
from alex.portfolio.files import FileKind
from alex.portfolio.formats import fields
from alex.portfolio.projection import MIN_PATHS, PERCENTILES, ProjectionRow
from alex.portfolio_tables import (
    band_chart,
    console,
    every_nth,
    money_text,
    print_accounts,
    print_allocation,
    print_holdings,
    print_notes,
    print_proposals,
    print_reports,
)
from alex.terminal import safe_json, safe_text, visible

portfolio_app = typer.Typer(
    help="Your portfolio: import transactions, see holdings, values and allocation, project "
    "retirement. Formats: docs/portfolio.md. Try: alex portfolio import samples/portfolio/*.csv",
    no_args_is_help=True,
)
prices_app = typer.Typer(
    help="Closing prices the portfolio is valued at (the last one known on a day is used; "
    "older than the settings' stale days, it is flagged).",
    no_args_is_help=True,
)

account_app = typer.Typer(help="Your accounts (they are created by importing an accounts CSV).")
portfolio_app.add_typer(account_app, name="account")

errors = Console(stderr=True, emoji=False)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        help="An Alex API URL (default: ALEX_API_ENDPOINT, else the local store).",
    ),
]
DateOption = Annotated[
    str | None, typer.Option("--date", help="The day, YYYY-MM-DD (default: today).")
]


class FormatChoice(StrEnum):
    AUTO = "auto"
    ALEX = "alex"
    GHOSTFOLIO = "ghostfolio"


class ExportFormat(StrEnum):
    ALEX = "alex"
    GHOSTFOLIO = "ghostfolio"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"{path}: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise InvalidInputError(f"{path}: cannot be read ({error.strerror})") from None


def _number(raw: str, what: str) -> Decimal:
    try:
        return fields.number(raw)
    except fields.FieldError as error:
        raise InvalidInputError(f"{what}: {error}") from None


def _maybe_number(raw: str | None, what: str) -> str | None:
    """A number option as the request's decimal text, or None when not given."""
    return None if raw is None else str(_number(raw, what))


def _day(raw: str | None, option: str) -> str | None:
    """The day checked here, so a bad one is named by its option, local or remote."""
    if raw is None:
        return None
    try:
        return fields.iso_date(raw, date.max).isoformat()
    except fields.FieldError as error:
        raise InvalidInputError(f"{option}: {error}") from None


def _print_json(value: Any) -> None:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    sys.stdout.write(safe_json(value) + "\n")


# --- import and export -------------------------------------------------------------------


@portfolio_app.command(
    "import",
    epilog="Examples:  alex portfolio import samples/portfolio/*.csv   |   "
    "alex portfolio import ghostfolio-export.json",
)
def import_files(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files: Alex's transactions, accounts, instruments, FX or prices CSV (told "
            "apart by their header line), or Ghostfolio's export JSON."
        ),
    ],
    format: Annotated[
        FormatChoice,
        typer.Option("--format", help="auto (default): JSON is Ghostfolio's, a CSV its header's."),
    ] = FormatChoice.AUTO,
    as_json: JsonOption = False,
    endpoint: EndpointOption = None,
) -> None:
    """Import files into the portfolio: all or nothing, and again adds nothing.

    Every file is checked before anything is stored; a bad row names the file, row and
    column, and nothing of any file is kept. Accounts and instruments are stored before the
    transactions that use them, so a folder of CSVs imports in one command."""
    body = PortfolioImportBody(
        files=[ImportFile(name=str(path), text=_read(path)) for path in paths],
        format=format.value,
    )
    with open_client(endpoint) as client:
        reports = client.portfolio_import(body).reports
    if as_json:
        _print_json([report.model_dump(mode="json") for report in reports])
        return
    print_reports(reports)


@portfolio_app.command(
    "export",
    epilog="Examples:  alex portfolio export > mine.csv   |   "
    "alex portfolio export --format ghostfolio --output ghostfolio.json",
)
def export(
    format: Annotated[
        ExportFormat, typer.Option("--format", help="alex (CSV, default) or ghostfolio (JSON).")
    ] = ExportFormat.ALEX,
    kind: Annotated[
        FileKind,
        typer.Option("--what", help="What to export in Alex's format (default transactions)."),
    ] = FileKind.TRANSACTIONS,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of to stdout.")
    ] = None,
    endpoint: EndpointOption = None,
) -> None:
    """Write the portfolio's records as a file `alex portfolio import` reads back."""
    with open_client(endpoint) as client:
        exported = client.portfolio_export(format.value, kind.value)
    if exported.left_out:
        errors.print(
            f"[yellow]left out[/yellow] {exported.left_out} deposits and withdrawals: "
            "Ghostfolio keeps cash as account balances, not activities"
        )
    if output is not None:
        output.write_text(exported.text, encoding="utf-8")
        errors.print(f"wrote {safe_text(output)}")
    elif sys.stdout.isatty():
        # On a screen, controls a note may hold are shown, not obeyed; piped, bytes as stored.
        console.print(visible(exported.text, multiline=True), markup=False, highlight=False)
    else:
        sys.stdout.write(exported.text)


# --- show --------------------------------------------------------------------------------


@portfolio_app.command("show")
def show(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Value on this day, YYYY-MM-DD (default today).")
    ] = None,
    as_json: JsonOption = False,
    endpoint: EndpointOption = None,
) -> None:
    """Accounts, holdings, values, gains and allocation, in the base currency.

    Holdings show their price and its date; a stale or missing price is flagged. Allocation
    by asset class, region and currency, with the drift from any target set.
    Values use the last price and FX rate known on the day. A part whose classification is
    not known shows as "unknown", never guessed; a position with no price is left out of the
    sums and named."""
    with open_client(endpoint) as client:
        view = client.portfolio_show(_day(as_of, "--as-of"))
    if as_json:
        _print_json(view)
        return
    if not view.accounts and not view.transactions:
        console.print("The portfolio is empty. Import files: alex portfolio import --help")
        return
    print_accounts(view)
    print_holdings(view)
    for dimension in (Dimension.ASSET_CLASS, Dimension.REGION, Dimension.CURRENCY):
        print_allocation(dimension, view.allocations[dimension.value])
    print_notes(view)


@portfolio_app.command("xray")
def xray_command(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Check on this day, YYYY-MM-DD (default today).")
    ] = None,
    as_json: JsonOption = False,
    endpoint: EndpointOption = None,
) -> None:
    """Risk checks: concentration in one holding, sector, currency or account, cash drag,
    the emergency fund, fee drag, unknown classifications and stale prices.

    Each check has a threshold you can change (docs/portfolio.md, "Risk checks"); a check
    that cannot run says why (set your monthly spending for the emergency fund)."""
    with open_client(endpoint) as client:
        result = client.portfolio_xray(_day(as_of, "--as-of"))
    if as_json:
        _print_json(result)
        return
    if not result.findings:
        console.print("No risk check fired.")
    for finding in result.findings:
        style = {"high": "red", "medium": "yellow"}.get(finding.severity, "cyan")
        console.print(
            f"[{style}]{finding.severity}[/{style}] {safe_text(finding.message)}",
            soft_wrap=True,
        )
    for run in result.rules:
        if run.status == "skipped":
            console.print(
                f"[dim]skipped {safe_text(run.rule)}: {safe_text(run.reason)}[/dim]",
                soft_wrap=True,
            )


@portfolio_app.command(
    "project",
    epilog="Example:  alex portfolio project --age 45 --retire-at 65 --contribution 10000 "
    "--spending 40000 --seed 7",
)
def project_command(
    years: Annotated[
        int | None, typer.Option("--years", help="Years to project (default: to age 95).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same numbers.")] = 0,
    paths: Annotated[
        int, typer.Option("--paths", help=f"Simulated paths (at least {MIN_PATHS:,}).")
    ] = MIN_PATHS,
    age: Annotated[
        int | None,
        typer.Option(
            "--age", help="Your age today (default: from the settings' birth year, or 40)."
        ),
    ] = None,
    retire_at: Annotated[
        int | None,
        typer.Option("--retire-at", help="Age at retirement (default: settings, or 65)."),
    ] = None,
    contribution: Annotated[
        str | None,
        typer.Option(
            "--contribution", help="Paid in each year until retirement (default: settings, or 0)."
        ),
    ] = None,
    spending: Annotated[
        str | None,
        typer.Option(
            "--spending",
            help="Spent each year in retirement, in today's money (default: the settings' "
            "spending, else 12 x their monthly spending).",
        ),
    ] = None,
    as_json: JsonOption = False,
    endpoint: EndpointOption = None,
) -> None:
    """Monte Carlo retirement projection of today's portfolio.

    Prints percentiles of its value by age, the success probability and a chart of the
    median within the 10-90 band.

    Method, default returns and their source, and what the model ignores (taxes, fat tails,
    ...): docs/portfolio.md, "Retirement projection". Values are nominal."""
    request = ProjectionRequest.model_validate(
        {
            "current_age": age,
            "retirement_age": retire_at,
            "contribution": _maybe_number(contribution, "--contribution"),
            "spending": _maybe_number(spending, "--spending"),
            "years": years,
            "seed": seed,
            "paths": paths,
        }
    )
    with open_client(endpoint) as client:
        result = client.portfolio_project(request)
    if as_json:
        _print_json(result)
        return
    currency = result.currency
    rows = [
        ProjectionRow(
            age=row.age,
            year=row.year,
            percentiles={int(p): Decimal(value) for p, value in row.percentiles.items()},
            expected=Decimal(row.expected),
        )
        for row in result.rows
    ]
    table = Table(
        title=f"Projection in {currency}, nominal, whole units ({result.paths:,} "
        f"paths, seed {result.seed})"
    )
    for column in ("age", *(f"p{p}" for p in PERCENTILES), "expected"):
        table.add_column(column, justify="right")
    for row in every_nth(rows, 5):
        table.add_row(
            str(row.age),
            *(f"{row.percentiles[p]:,.0f}" for p in PERCENTILES),
            f"{row.expected:,.0f}",
        )
    console.print(table)
    for line in band_chart(rows):
        console.print(line, markup=False, highlight=False)
    console.print(f"success probability: {result.success_probability:.1%}")
    if result.depletion_age_p10 is not None:
        console.print(f"one path in ten has run out by age {result.depletion_age_p10}")
    for name, value in result.left_out.items():
        console.print(
            f"[yellow]left out[/yellow] {safe_text(name)} ({money_text(value)} "
            f"{currency}): no return assumption for it",
            soft_wrap=True,
        )


@portfolio_app.command(
    "target",
    epilog="Examples:  alex portfolio target asset_class equity=60 bond=30 cash=10   |   "
    "alex portfolio target region   (removes the region target)",
)
def target(
    dimension: Annotated[
        Dimension, typer.Argument(help="asset_class, region, sector, currency or account.")
    ],
    weights: Annotated[
        list[str] | None,
        typer.Argument(help="BUCKET=PERCENT pairs adding up to 100; none removes the target."),
    ] = None,
    endpoint: EndpointOption = None,
) -> None:
    """Set the target allocation along one dimension; `show` then prints the drift."""
    shares: dict[str, Decimal] = {}
    for pair in weights or []:
        bucket, equals, raw = pair.partition("=")
        if not equals or not bucket.strip():
            raise InvalidInputError(f"expected BUCKET=PERCENT, got {pair!r}")
        shares[bucket.strip().lower()] = _number(raw, bucket.strip())
    body = TargetPut(weights={bucket: str(share) for bucket, share in shares.items()})
    with open_client(endpoint) as client:
        client.portfolio_target(dimension.value, body)
    if shares:
        said = ", ".join(f"{bucket} {share}%" for bucket, share in shares.items())
        console.print(f"target {dimension.value}: {safe_text(said)}")
    else:
        console.print(f"target {dimension.value} removed")


@portfolio_app.command(
    "settings",
    epilog="Example:  alex portfolio settings --birth-year 1981 --retire-at 67 --contribution "
    "10000 --spending 40000   (then `alex portfolio project` uses them)",
)
def settings_command(
    base_currency: Annotated[
        str | None, typer.Option("--base-currency", help="Currency totals are shown in.")
    ] = None,
    monthly_spending: Annotated[
        str | None,
        typer.Option("--monthly-spending", help="Your spending a month, in the base currency."),
    ] = None,
    stale_days: Annotated[
        int | None,
        typer.Option("--stale-days", help="A price older than this many days is flagged."),
    ] = None,
    birth_year: Annotated[
        int | None,
        typer.Option("--birth-year", help="Projection: your age is this year minus it."),
    ] = None,
    retire_at: Annotated[
        int | None, typer.Option("--retire-at", help="Projection: age at retirement.")
    ] = None,
    end_age: Annotated[
        int | None, typer.Option("--end-age", help="Projection: the age the plan runs to.")
    ] = None,
    contribution: Annotated[
        str | None,
        typer.Option("--contribution", help="Projection: paid in each year until retirement."),
    ] = None,
    contribution_growth: Annotated[
        str | None,
        typer.Option("--contribution-growth", help="Projection: its yearly growth (0.02 is 2%)."),
    ] = None,
    spending: Annotated[
        str | None,
        typer.Option(
            "--spending", help="Projection: spent each year in retirement, in today's money."
        ),
    ] = None,
    fee: Annotated[
        str | None,
        typer.Option("--fee", help="Projection: a yearly fee on the value (0.003 is 0.3%)."),
    ] = None,
    as_json: JsonOption = False,
    endpoint: EndpointOption = None,
) -> None:
    """Show the portfolio's settings, changing the ones given (what `project` starts from)."""
    plan = {
        "birth_year": birth_year,
        "retirement_age": retire_at,
        "end_age": end_age,
        "contribution": _maybe_number(contribution, "--contribution"),
        "contribution_growth": _maybe_number(contribution_growth, "--contribution-growth"),
        "spending": _maybe_number(spending, "--spending"),
        "fee": _maybe_number(fee, "--fee"),
    }
    changes: dict[str, Any] = {
        "base_currency": base_currency,
        "monthly_spending": _maybe_number(monthly_spending, "--monthly-spending"),
        "stale_price_days": stale_days,
    }
    if any(value is not None for value in plan.values()):
        changes["projection"] = {name: v for name, v in plan.items() if v is not None}
    given = {name: value for name, value in changes.items() if value is not None}
    update = SettingsPut.model_validate(given) if given else None
    with open_client(endpoint) as client:
        current = client.portfolio_settings(update)
    values = current.model_dump(mode="json")
    if as_json:
        _print_json(values)
        return
    table = Table(show_header=False, title="Portfolio settings")
    projection = values.pop("projection")
    rows = [*values.items(), *((f"projection {k}", v) for k, v in projection.items())]
    for name, value in rows:
        table.add_row(name, Text(visible("not set" if value is None else value)))
    console.print(table)


@account_app.command("delete", epilog="Example:  alex portfolio account delete travel")
def account_delete(
    account_id: Annotated[str, typer.Argument(metavar="ID", help="The account's id.")],
    endpoint: EndpointOption = None,
) -> None:
    """Delete an account that holds no transactions (refused, naming how many, if it does)."""
    with open_client(endpoint) as client:
        deleted = client.portfolio_delete_account(account_id)
    console.print(f"account {safe_text(deleted.id)} deleted")


@portfolio_app.command(
    "classify",
    epilog="Examples:  alex portfolio classify   |   alex portfolio classify --accept HAGB   |   "
    "alex portfolio classify --reject HAGB",
)
def classify_command(
    accept: Annotated[
        str | None,
        typer.Option("--accept", metavar="SYMBOL", help="Make the proposal its weights."),
    ] = None,
    reject: Annotated[
        str | None, typer.Option("--reject", metavar="SYMBOL", help="Drop the proposal.")
    ] = None,
    as_json: JsonOption = False,
    endpoint: EndpointOption = None,
) -> None:
    """Propose classifications for instruments whose weights are unknown, or accept or
    reject one.

    A chat model (the researcher's: OpenAI, a server, or the embedded offline model) is
    given each instrument's symbol, name, type and currency and proposes asset class, region
    and sector weights, checked by code (each adds up to 100). Proposals are only for what
    is unknown, never replace your own weights, and count nowhere until you accept them.
    With --endpoint the API lists, accepts and rejects; it has no model to propose with
    (docs/planner.md, "Classify")."""
    if accept is not None and reject is not None:
        raise InvalidInputError("--accept and --reject: give one of them")
    if accept is not None or reject is not None:
        _decide(accept, reject, as_json, endpoint)
        return
    with open_client(endpoint) as client, errors.status("classifying", spinner="dots") as spinner:

        def progress(step: str, detail: str) -> None:
            errors.print(f"[dim]{step}[/dim] {safe_text(detail)}", soft_wrap=True)
            spinner.update(f"{safe_text(step)}: {safe_text(detail)}")

        answer = client.portfolio_classify(progress)
    if as_json:
        _print_json(answer)
        return
    report = answer.report
    if report is None:
        errors.print(
            "The API proposes nothing (it has no model): run `alex portfolio classify` where "
            "the portfolio is local, or the analysis job. Waiting for you:"
        )
    else:
        for refusal in report.not_classified:
            console.print(
                f"[red]not classified[/red] {safe_text(refusal.symbol)}: "
                f"{safe_text(refusal.reason)}",
                soft_wrap=True,
            )
        for refusal in report.skipped:
            console.print(
                f"[dim]skipped {safe_text(refusal.symbol)}: {safe_text(refusal.reason)}[/dim]",
                soft_wrap=True,
            )
    print_proposals(answer.proposals)


def _decide(accept: str | None, reject: str | None, as_json: bool, endpoint: str | None) -> None:
    symbol = accept if accept is not None else reject
    assert symbol is not None  # the command passes one of them
    with open_client(endpoint) as client:
        decision = client.portfolio_decide(symbol, accept=accept is not None)
    if as_json:
        _print_json(decision)
        return
    applied, kept = ", ".join(decision.applied), ", ".join(decision.kept)
    console.print(
        f"{safe_text(decision.message)}: {safe_text(decision.symbol)}"
        + (f" (now its own: {applied})" if applied else "")
        + (f" (kept its own: {kept})" if kept else ""),
        soft_wrap=True,
    )


# --- prices ------------------------------------------------------------------------------


@prices_app.command("import", epilog="Example:  alex prices import samples/portfolio/prices.csv")
def prices_import(
    path: Annotated[Path, typer.Argument(help="A CSV: date,symbol,close,currency.")],
    endpoint: EndpointOption = None,
) -> None:
    """Import closing prices (a price for a symbol and day replaces the one stored)."""
    body = PricesImportBody(text=_read(path), name=str(path))
    with open_client(endpoint) as client:
        reports = client.prices_import(body).reports
    print_reports(reports)


@prices_app.command("set", epilog="Example:  alex prices set VTI 245.10 --currency USD")
def prices_set(
    symbol: Annotated[str, typer.Argument(help="The instrument's symbol.")],
    price: Annotated[str, typer.Argument(help="Closing price of one unit, e.g. 245.10.")],
    currency: Annotated[str, typer.Option("--currency", help="The price's currency.")],
    day: DateOption = None,
    endpoint: EndpointOption = None,
) -> None:
    """Record one closing price."""
    body = PriceBody(
        symbol=symbol,
        close=str(_number(price, "PRICE")),
        currency=currency,
        date=_day(day, "--date"),
    )
    with open_client(endpoint) as client:
        stored = client.prices_set(body)
    console.print(
        f"price {safe_text(stored.symbol)} {stored.close} {stored.currency} on {stored.date}"
    )
