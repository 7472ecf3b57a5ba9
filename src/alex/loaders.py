"""Read files into text and metadata for ingest: .txt, .md (with front matter), .html, .pdf."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath

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


def _read_pdf(name: str, data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as error:
        raise InvalidInputError(f"{name}: not a readable PDF ({error})") from error
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise InvalidInputError(
            f"{name}: the PDF has no extractable text (a scanned image?); run it through OCR first"
        )
    return text


def load_file(path: Path) -> LoadedFile:
    _check_suffix(path, str(path))
    return _load(path, path.read_bytes(), str(path))


def load_upload(name: str, data: bytes) -> LoadedFile:
    """An uploaded file (a web page's form), read as :func:`load_file` reads one on disk;
    ``name`` is the file's name as the browser sent it (folders, if any, are dropped)."""
    path = Path(PurePath(name.replace("\\", "/")).name or "upload")
    _check_suffix(path, path.name)
    return _load(path, data, path.name)


def _check_suffix(path: Path, where: str) -> None:
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise InvalidInputError(
            f"{where}: unsupported file type; Alex reads {', '.join(SUPPORTED_SUFFIXES)}"
        )


def _load(path: Path, data: bytes, where: str) -> LoadedFile:
    suffix = path.suffix.lower()
    metadata: Metadata = {"source": path.name, "file": path.name}
    if suffix == ".pdf":
        return LoadedFile(path, _read_pdf(path.name, data), metadata)
    if suffix in (".html", ".htm"):
        # As the researcher reads a fetched page: decoded as a browser would (a BOM, then
        # <meta charset>, UTF-8, detection), then its main content.
        decoded, _ = decode_body(data, None, html=True)
        title, text = html_page_text(decoded)
        if title:
            metadata["title"] = title
        return LoadedFile(path, text, metadata)
    try:
        # Universal newlines, as reading the file in text mode gives: the same text (and so
        # the same stored document) whether it comes from disk or from an upload.
        raw = data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"{where}: not UTF-8 text ({error.reason})") from error
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
