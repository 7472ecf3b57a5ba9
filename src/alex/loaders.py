"""Read files into text and metadata for ingest: .txt, .md (with front matter), .html, .pdf."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from alex.decoding import decode_body
from alex.domain.errors import InvalidInputError
from alex.domain.models import Metadata
from alex.html_text import html_page_text

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_FRONT_MATTER_LINE = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.\-]{0,63})\s*:\s*(.*?)\s*$")
_LIST_KEYS = {"tickers", "tags"}


@dataclass(frozen=True, slots=True)
class LoadedFile:
    path: Path
    text: str
    metadata: Metadata


def split_front_matter(text: str) -> tuple[Metadata, str]:
    """Simple ``key: value`` front matter between ``---`` lines; ``tickers``/``tags`` are lists."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    metadata: Metadata = {}
    for line in match.group(1).splitlines():
        parsed = _FRONT_MATTER_LINE.match(line)
        if not parsed:
            continue
        key, value = parsed.group(1), parsed.group(2).strip().strip("\"'")
        if key in _LIST_KEYS:
            metadata[key] = [item.strip() for item in value.split(",") if item.strip()]
        elif value:
            metadata[key] = value
    return metadata, text[match.end() :]


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as error:
        raise InvalidInputError(f"{path.name}: not a readable PDF ({error})") from error
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise InvalidInputError(
            f"{path.name}: the PDF has no extractable text (a scanned image?); "
            "run it through OCR first"
        )
    return text


def load_file(path: Path) -> LoadedFile:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InvalidInputError(
            f"{path}: unsupported file type; Alex reads {', '.join(SUPPORTED_SUFFIXES)}"
        )
    metadata: Metadata = {"source": path.name, "file": path.name}
    if suffix == ".pdf":
        return LoadedFile(path, _read_pdf(path), metadata)
    if suffix in (".html", ".htm"):
        # As the researcher reads a fetched page: decoded as a browser would (a BOM, then
        # <meta charset>, UTF-8, detection), then its main content.
        decoded, _ = decode_body(path.read_bytes(), None, html=True)
        title, text = html_page_text(decoded)
        if title:
            metadata["title"] = title
        return LoadedFile(path, text, metadata)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"{path}: not UTF-8 text ({error.reason})") from error
    front, body = split_front_matter(raw) if suffix in (".md", ".markdown") else ({}, raw)
    return LoadedFile(path, body, {**metadata, **front})


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, and the supported files inside folders (recursively, sorted)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                child
                for child in path.rglob("*")
                if child.is_file()
                and child.suffix.lower() in SUPPORTED_SUFFIXES
                and not child.name.startswith(".")
                and child.name.lower() != "readme.md"
            )
        elif path.is_file():
            yield path
        else:
            raise InvalidInputError(f"{path}: no such file or folder")
