"""Domain errors. Each door (HTTP, Lambda, CLI) maps them to its own answer in one place."""

from __future__ import annotations


class AlexError(Exception):
    """Base class of every error Alex reports to a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(AlexError):
    """The caller sent something Alex cannot accept (HTTP 400/422)."""


class PayloadTooLargeError(InvalidInputError):
    """A text, batch or body is over its size limit (HTTP 413)."""


class NotFoundError(AlexError):
    """The named document does not exist (HTTP 404)."""


class ConfigError(AlexError):
    """Configuration is missing or still a placeholder."""


class StoreUnavailableError(AlexError):
    """The store cannot be read or written: disk full, read-only, locked (HTTP 503)."""


class EmbedderUnavailableError(AlexError):
    """The embedding model cannot be loaded or called (HTTP 503)."""


class ChatModelUnavailableError(AlexError):
    """The chat model cannot be started or reached: no key, no server, no offline model."""


class ResearchFailedError(AlexError):
    """A research run ended without a valid analysis: the model misbehaved, ran out of turns
    or time, or no source could be read. Nothing was stored."""


class AnalysisFailedError(AlexError):
    """An analysis job ended without a report: a writer's answer failed its schema, the model
    failed, or the job ran out of time. Nothing was stored."""


class SourceUnavailableError(AlexError):
    """A web page could not be fetched or read (network, HTTP status, size, type): an
    upstream failure (HTTP 502)."""
