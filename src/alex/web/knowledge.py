"""The knowledge base's pages: search with highlighted hits, the document list, a document's
text and metadata, its deletion, and the upload of files to ingest.

Each route calls the use cases the JSON API calls (``SearchService.search``,
``DocumentService``, ``IngestService`` through ``LocalClient.ingest_many``, the CLI's
per-file ingest) a fixed number of times; uploads are read by the CLI's loaders
(:func:`alex.loaders.load_upload`) under the same limits. Every text shown came from a
user's file or a web page: the templates escape it, and the highlighting escapes each piece
before it marks the matched words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape
from starlette.datastructures import UploadFile

from alex.client import LocalClient
from alex.domain.errors import AlexError, InvalidInputError, NotFoundError
from alex.domain.fusion import content_words
from alex.domain.models import ChunkHit, Document, Metadata
from alex.domain.validation import SEARCH_MODES, parse_key_values
from alex.ingest import IngestRequest
from alex.loaders import SUPPORTED_SUFFIXES, load_upload
from alex.web.pages import FormSession, PageSession, page_services, render

PAGE_SIZE = 20
SEARCH_RESULTS = 10
# An upload's source id: re-uploading a file of the same name replaces its document, as
# re-ingesting the same path does from the CLI.
UPLOAD_PREFIX = "upload/"
# The JavaScript flow (static/js/upload.js) asks for the result rows alone with this header.
ROWS_HEADER = "x-alex-rows"
_WORD = re.compile(r"\w+")


def highlight(text: str, words: frozenset[str]) -> Markup:
    """``text`` escaped, with every word of ``words`` (case-folded, as the hybrid ranking's
    coverage counts them: :func:`alex.domain.fusion.content_words`) inside ``<mark>``."""
    pieces: list[str] = []
    end = 0
    for match in _WORD.finditer(text):
        if match.group().casefold() in words:
            pieces.append(escape(text[end : match.start()]))
            pieces.append(Markup("<mark>%s</mark>") % match.group())
            end = match.end()
    pieces.append(escape(text[end:]))
    return Markup("").join(pieces)


def title_of(document_id: str, metadata: Metadata) -> str:
    """A document's name for people: its title, its topic (analyses), its file, or its id."""
    for key in ("title", "topic", "file", "source"):
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return document_id


def metadata_rows(metadata: Metadata) -> list[tuple[str, str]]:
    """Each metadata entry as (key, text); lists joined with commas."""
    rows = []
    for key, value in sorted(metadata.items()):
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        rows.append((key, shown))
    return rows


def parse_filters(text: str) -> dict[str, str]:
    """``key=value`` filters, one per line (as ``alex search -f`` takes them)."""
    return parse_key_values((line.strip() for line in text.splitlines() if line.strip()), "filter")


@dataclass(frozen=True)
class Hit:
    document_id: str
    title: str
    score: float
    chunk: int
    text: Markup
    kind: str | None

    @classmethod
    def of(cls, hit: ChunkHit, words: frozenset[str]) -> Hit:
        kind = hit.metadata.get("kind")
        return cls(
            hit.document_id,
            title_of(hit.document_id, hit.metadata),
            hit.score,
            hit.chunk_ordinal,
            highlight(hit.text, words),
            kind if isinstance(kind, str) else None,
        )


@dataclass(frozen=True)
class Uploaded:
    """One file's outcome: stored (status, chunks, document id) or refused (why)."""

    name: str
    status: str  # created, updated, unchanged, or failed
    document_id: str | None = None
    chunks: int = 0
    error: str | None = None


def ingest_uploads(
    request: Request, files: Sequence[tuple[str, bytes]], extra: Metadata
) -> list[Uploaded]:
    """Load each file (the CLI's loaders), then ingest those that loaded in one batch, each
    refused on its own (``LocalClient.ingest_many``, as ``alex ingest FILES`` does)."""
    outcomes: list[Uploaded | None] = []
    loaded: list[tuple[str, IngestRequest]] = []
    for name, data in files:
        try:
            file = load_upload(name, data)
        except AlexError as error:
            # The loader names the file; its row already does.
            message = error.message.removeprefix(PurePath(name.replace("\\", "/")).name + ": ")
            outcomes.append(Uploaded(name, "failed", error=message))
            continue
        source = UPLOAD_PREFIX + file.path.name
        outcomes.append(None)
        loaded.append((name, IngestRequest(file.text, {**file.metadata, **extra}, source)))
    stored: Iterable[Uploaded] = ()
    if loaded:
        try:
            results = LocalClient(page_services(request)).ingest_many([r for _, r in loaded])
        except AlexError as error:  # the whole batch: over the chunk budget, store down
            stored = [Uploaded(name, "failed", error=error.message) for name, _ in loaded]
        else:
            stored = [
                Uploaded(name, "failed", error=result.message)
                if isinstance(result, AlexError)
                else Uploaded(name, result.status, result.document_id, result.chunks)
                for (name, _), result in zip(loaded, results, strict=True)
            ]
    done = iter(stored)
    return [outcome if outcome is not None else next(done) for outcome in outcomes]


def _document_or_none(request: Request, document_id: str) -> Document | None:
    try:
        return page_services(request).documents.get(document_id)
    except NotFoundError:
        return None


def _missing(request: Request, session: Any, document_id: str) -> Response:
    return render(
        request,
        "knowledge_missing.html",
        session,
        status_code=404,
        page="knowledge",
        document_id=document_id,
    )


def _page_number(value: str | None) -> int:
    return int(value) if value is not None and value.isdigit() and 0 < len(value) < 7 else 1


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/knowledge", name="knowledge")
    def search_page(
        request: Request,
        session: PageSession,
        q: str = "",
        mode: str = "hybrid",
        filters: str = "",
    ) -> Response:
        hits: list[Hit] = []
        error = None
        if q.strip():
            try:
                wanted = parse_filters(filters)
                found = page_services(request).search.search(q, SEARCH_RESULTS, mode, wanted)
                words = content_words(q)
                hits = [Hit.of(hit, words) for hit in found]
            except InvalidInputError as refused:
                error = refused.message
        return render(
            request,
            "knowledge.html",
            session,
            status_code=400 if error else 200,
            page="knowledge",
            query=q,
            mode=mode if mode in SEARCH_MODES else "hybrid",
            modes=SEARCH_MODES,
            filters=filters,
            hits=hits,
            searched=bool(q.strip()) and error is None,
            error=error,
        )

    @router.get("/knowledge/documents", name="knowledge_documents")
    def documents_page(
        request: Request, session: PageSession, page: str | None = None, deleted: str = ""
    ) -> Response:
        number = _page_number(page)
        summaries, total = page_services(request).documents.list_documents(
            PAGE_SIZE, (number - 1) * PAGE_SIZE
        )
        pages = max(1, -(-total // PAGE_SIZE))
        rows = [(s, title_of(s.id, s.metadata)) for s in summaries]
        return render(
            request,
            "knowledge_documents.html",
            session,
            page="knowledge",
            rows=rows,
            total=total,
            number=number,
            pages=pages,
            deleted=deleted[:200],
        )

    @router.get("/knowledge/documents/{document_id}", name="knowledge_document")
    def document_page(request: Request, session: PageSession, document_id: str) -> Response:
        document = _document_or_none(request, document_id)
        if document is None:
            return _missing(request, session, document_id)
        return render(
            request,
            "knowledge_document.html",
            session,
            page="knowledge",
            document=document,
            title=title_of(document.id, document.metadata),
            metadata=metadata_rows(document.metadata),
        )

    @router.get("/knowledge/documents/{document_id}/delete", name="knowledge_delete_confirm")
    def delete_confirm(request: Request, session: PageSession, document_id: str) -> Response:
        document = _document_or_none(request, document_id)
        if document is None:
            return _missing(request, session, document_id)
        return render(
            request,
            "knowledge_delete.html",
            session,
            page="knowledge",
            document=document,
            title=title_of(document.id, document.metadata),
        )

    @router.post("/knowledge/documents/{document_id}/delete", name="knowledge_delete")
    def delete(request: Request, session: FormSession, document_id: str) -> Response:
        try:
            page_services(request).documents.delete(document_id)
        except NotFoundError:
            return _missing(request, session, document_id)
        target = request.url_for("knowledge_documents").include_query_params(deleted=document_id)
        return RedirectResponse(f"{target.path}?{target.query}", status_code=303)

    @router.get("/knowledge/upload", name="knowledge_upload")
    def upload_page(request: Request, session: PageSession) -> Response:
        return render(
            request,
            "knowledge_upload.html",
            session,
            page="knowledge",
            outcomes=None,
            metadata="",
            error=None,
            suffixes=SUPPORTED_SUFFIXES,
        )

    @router.post("/knowledge/upload", name="knowledge_upload_submit")
    async def upload(request: Request, session: FormSession) -> Response:
        form = await request.form()
        files = [item for item in form.getlist("files") if isinstance(item, UploadFile)]
        meta_text = form.get("metadata")
        meta_text = meta_text if isinstance(meta_text, str) else ""
        outcomes: list[Uploaded] = []
        error = None
        try:
            extra: Metadata = dict(parse_filters(meta_text))
            chosen = [(f.filename or "upload", await f.read()) for f in files if f.filename]
            if not chosen:
                raise InvalidInputError("Choose at least one file to upload.")
            outcomes = ingest_uploads(request, chosen, extra)
        except InvalidInputError as refused:
            error = refused.message.replace("filter ", "metadata ", 1)
        status = 400 if error or any(o.status == "failed" for o in outcomes) else 200
        if request.headers.get(ROWS_HEADER) == "1":
            # 200 whatever the outcome: the rows say it (a 4xx would be a console error
            # in the browser, and the script would not know the request itself had worked).
            return render(
                request, "knowledge_upload_rows.html", session, outcomes=outcomes, error=error
            )
        return render(
            request,
            "knowledge_upload.html",
            session,
            status_code=status,
            page="knowledge",
            outcomes=outcomes,
            metadata=meta_text,
            error=error,
            suffixes=SUPPORTED_SUFFIXES,
        )

    return router


router = build_router()
