"""Reading the answer: its media type and the body under a size cap (gzip and deflate
inflated step by step). Decoding it to text is ``alex.decoding``."""

from __future__ import annotations

import time
import zlib

import httpx

from alex.research.fetch.errors import FetchFailedError, shown


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


def _looks_like_html(body: bytes) -> bool:
    start = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html")) or b"<html" in start
