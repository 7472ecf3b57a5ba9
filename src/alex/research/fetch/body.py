"""Reading the answer: its media type, the body under a size cap (gzip and deflate
inflated step by step), and decoding it to text as browsers do."""

from __future__ import annotations

import codecs
import re
import time
import zlib
from typing import Final

import httpx

from alex.research.fetch.errors import FetchFailedError, shown

_META_CHARSET: Final = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# The legacy encodings web pages use, for detection when a page declares none: a short
# list, because detection among every codec Python knows picks oddities such as cp775.
_DETECTABLE: Final = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "iso8859_15", "iso8859_2", "koi8_r", "cp874", "cp932", "euc_jp", "iso2022_jp", "gb18030",
    "big5", "euc_kr",
)  # fmt: skip
# WHATWG decodes these labels as windows-1252, and so do browsers.
_CHARSET_ALIASES: Final = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}


class _Inflater:
    """Decompresses gzip or deflate with a cap on the output of every step.

    httpx's own decoders inflate a whole network chunk at once (64 KB of a gzip bomb can
    become tens of megabytes), so the body is read raw and inflated here instead.
    """

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._inflater = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes, budget: int) -> bytes:
        """The next inflated bytes; _TooLargeError once they would pass ``budget``.

        zlib stops at ``budget + 1`` bytes, so a bomb never inflates further than that.
        """
        try:
            out = self._inflater.decompress(data, budget + 1)
        except zlib.error:
            if self._encoding != "deflate" or self._started:
                raise
            # "deflate" is meant to be zlib-wrapped, but some servers send it raw.
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._inflater.decompress(data, budget + 1)
        self._started = True
        if len(out) > budget or self._inflater.unconsumed_tail:
            raise _TooLargeError
        return out


class _TooLargeError(Exception):
    pass


def _media_type(header: str | None) -> tuple[str, str | None]:
    """``text/html; charset=UTF-8`` -> ("text/html", "UTF-8")."""
    if not header:
        return "", None
    media, *params = header.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media.strip().lower(), charset


def _refuse_type(url: httpx.URL, media: str) -> FetchFailedError:
    if media == "application/pdf":
        what = "a PDF (application/pdf)"
    elif media.startswith("image/"):
        what = f"an image ({media})"
    elif media.startswith(("audio/", "video/")):
        what = f"audio or video ({media})"
    else:
        what = f"of type {media}"
    return FetchFailedError(
        f"{shown(url)} is {what}: only HTML, XHTML and plain-text pages are read",
        reason="content-type",
    )


def _read_body(response: httpx.Response, url: httpx.URL, limit: int, deadline: float) -> bytes:
    too_large = FetchFailedError(
        f"{shown(url)} is larger than the {limit:,}-byte limit (ALEX_FETCH_MAX_BYTES); "
        "refused rather than read in part",
        reason="too-large",
    )
    if response.is_stream_consumed:
        # Already read and decoded by httpx (an httpx.MockTransport answer, for one).
        if len(response.content) > limit:
            raise too_large
        return response.content
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large  # compressed or not, more than the limit is on its way
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        inflater = None
    elif encoding in ("gzip", "x-gzip", "deflate"):
        inflater = _Inflater(encoding)
    else:
        raise FetchFailedError(
            f"{shown(url)} uses Content-Encoding {encoding!r}, which Alex does not decode",
            reason="encoding",
        )
    chunks: list[bytes] = []
    size = raw_size = 0
    try:
        for raw in response.iter_raw():
            # Between chunks: a server dripping bytes under the read timeout is still cut off.
            if time.monotonic() > deadline:
                raise FetchFailedError(
                    f"{shown(url)} took longer than the total time limit to arrive",
                    reason="timeout",
                )
            raw_size += len(raw)
            if raw_size > limit:
                raise _TooLargeError
            data = inflater.feed(raw, limit - size) if inflater else raw
            size += len(data)
            if size > limit:
                raise _TooLargeError
            chunks.append(data)
    except _TooLargeError:
        raise too_large from None
    except zlib.error as error:
        raise FetchFailedError(
            f"{shown(url)} sent a body that could not be decompressed ({encoding}): {error}",
            reason="encoding",
        ) from None
    return b"".join(chunks)


def _codec(label: str | None) -> str | None:
    """A Python text codec for a charset label, or None for an unknown or non-text one."""
    if not label:
        return None
    name = _CHARSET_ALIASES.get(label.strip().lower(), label.strip().lower())
    try:
        codec = codecs.lookup(name)
        # LookupError for bytes-to-bytes codecs such as "base64" (b"" would not tell).
        b"a".decode(codec.name, "replace")
    except LookupError:
        return None
    return codec.name


def decode_body(body: bytes, declared: str | None, *, html: bool) -> tuple[str, str]:
    """The body as text, and the codec used. Never raises on bad bytes.

    As browsers do: a byte-order mark wins, then the declared charset (bad bytes become
    U+FFFD), then a ``<meta charset>``, then UTF-8 when the bytes are valid UTF-8, then
    charset detection, then windows-1252.
    """
    for bom, bom_codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            return body[len(bom) :].decode(bom_codec, "replace"), bom_codec
    meta = _META_CHARSET.search(body[:4096]) if html else None
    for label in (declared, meta.group(1).decode("ascii") if meta else None):
        codec = _codec(label)
        if codec:
            return body.decode(codec, "replace"), codec
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # charset_normalizer comes with trafilatura (imported here: it is slow to import).
    from charset_normalizer import from_bytes

    best = from_bytes(body, cp_isolation=list(_DETECTABLE)).best()
    if best is None or "cp1252" in (best.encoding, *best.could_be_from_charset):
        # Left alone, detection calls Western text cp1250 or cp775; the web's legacy
        # default is windows-1252 whenever it fits as well.
        return body.decode("cp1252", "replace"), "cp1252"
    codec = _codec(best.encoding) or "cp1252"
    return body.decode(codec, "replace"), codec


def _looks_like_html(body: bytes) -> bool:
    start = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html")) or b"<html" in start
