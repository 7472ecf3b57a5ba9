"""The fetcher's two errors: a refused URL (422) and a page that could not be read (502)."""

from __future__ import annotations

from alex.domain.errors import InvalidInputError, SourceUnavailableError
from alex.domain.validation import shortened


class FetchRefusedError(InvalidInputError):
    """The URL, or a redirect it led to, is not one Alex may fetch (HTTP 422).

    ``reason`` is a short code: ``scheme``, ``credentials``, ``invalid-url``,
    ``numeric-host`` or ``address``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class FetchFailedError(SourceUnavailableError):
    """The page could not be fetched or read: network, HTTP status, size, type, time.

    The HTTP door answers 502 (an upstream failure). ``reason`` is a short code:
    ``dns``, ``network``, ``timeout``, ``http-status``, ``redirects``, ``too-large``,
    ``content-type`` or ``encoding``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def shown(url: object) -> str:
    """A URL as messages show it, once and shortened (a URL may be 2,048 characters)."""
    return shortened(str(url))
