"""What every kind of job record shares: its statuses, capped texts and how it failed.

The researcher's jobs (``alex.research.jobs``) and the planner's analysis jobs
(``alex.planner.jobs``) both keep these; neither owns them. Every text a job keeps from
elsewhere (an error message, a progress detail) is cut to :data:`MAX_JOB_TEXT` characters:
a job is answered whole on every poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from alex.domain import errors
from alex.domain.errors import AlexError

JobStatus = Literal["queued", "running", "succeeded", "failed"]

MAX_JOB_TEXT = 1_000
"""Most characters of any one text a job keeps (error message, detail, a page's failure)."""
INTERNAL_ERROR = "InternalError"
"""The kind of a failure that is a bug, not an :class:`AlexError` (answered as 500)."""


def capped(text: str, limit: int = MAX_JOB_TEXT) -> str:
    """``text``, or its first ``limit - 1`` characters and an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_kind(error: AlexError) -> str:
    """The name of the nearest class of ``alex.domain.errors`` that ``error`` is: the kind
    each door maps to its own answer (a FetchRefusedError is an InvalidInputError)."""
    for klass in type(error).__mro__:
        if klass.__module__ == errors.__name__:
            return klass.__name__
    return AlexError.__name__  # unreachable: every AlexError has AlexError in its MRO


@dataclass(frozen=True)
class JobFailure:
    message: str
    kind: str
    """A class name of ``alex.domain.errors`` (see :func:`error_kind`), or INTERNAL_ERROR."""

    @classmethod
    def of(cls, error: AlexError) -> JobFailure:
        return cls(capped(error.message), error_kind(error))
