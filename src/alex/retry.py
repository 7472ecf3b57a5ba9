"""One retry policy for every remote call: exponential backoff with full jitter.

Before retry ``n`` (1 for the second attempt) a caller sleeps ``uniform(0, min(cap, base x
2**(n-1)))`` ("full jitter", AWS Architecture Blog, "Exponential Backoff and Jitter"), so
clients throttled together do not come back together. No sleep follows the last attempt,
and with a ``deadline_s`` no retry starts whose sleep would end past it.

The timings of every user are the named policies below, in this one place. ``sleep``,
``jitter`` and ``clock`` are parameters so tests run without waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backoff:
    """How often to try and how long to wait in between."""

    attempts: int
    base_s: float
    cap_s: float
    deadline_s: float | None = None  # since the first attempt started

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {self.attempts}")

    def with_attempts(self, attempts: int) -> Backoff:
        return replace(self, attempts=max(1, attempts))

    def delay(self, retry: int, jitter: float) -> float:
        """The sleep before retry ``retry`` (1-based), for ``jitter`` in [0, 1)."""
        return jitter * min(self.cap_s, self.base_s * 2.0 ** (retry - 1))


# HTTP answers worth trying again: throttled (429) or a gateway/service not ready (502-504).
RETRYABLE_HTTP_STATUSES = frozenset({429, 502, 503, 504})

# The CLI's remote mode: a cold Lambda or SageMaker endpoint answers 502-504 for a while.
HTTP_CLIENT = Backoff(attempts=5, base_s=1.0, cap_s=30.0)
# One OpenSearch Serverless request (429 throttling, 502-504, dropped connections).
OPENSEARCH_REQUEST = Backoff(attempts=5, base_s=0.5, cap_s=20.0)
# Items of a _bulk answer rejected with 429, sent again on their own.
OPENSEARCH_BULK_ITEMS = Backoff(attempts=4, base_s=0.5, cap_s=20.0)
# One SageMaker InvokeEndpoint: a serverless endpoint's cold start can take a minute.
SAGEMAKER_INVOKE = Backoff(attempts=6, base_s=1.0, cap_s=20.0)
# One request to an online price provider: its free tiers count requests per minute, so
# waits grow towards one (5, 10, 20 s at most); a daily quota is not retried at all.
PRICES_REQUEST = Backoff(attempts=4, base_s=5.0, cap_s=40.0, deadline_s=90.0)


def attempts(
    policy: Backoff,
    *,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[int]:
    """Attempt numbers from 0, sleeping the backoff before each one after the first.

    The caller's loop body makes one attempt and ``return``s (or raises) when done, or
    goes on to the next; the loop ends without a sleep after the last attempt.
    """
    started = clock()
    for attempt in range(policy.attempts):
        if attempt:
            delay = policy.delay(attempt, jitter())
            if policy.deadline_s is not None and clock() - started + delay > policy.deadline_s:
                return
            sleep(delay)
        yield attempt


def call(
    action: Callable[[], T],
    policy: Backoff,
    retryable: Callable[[Exception], bool],
    *,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``action()``, retried while it raises what ``retryable`` accepts; else the last error."""
    last: Exception | None = None
    for _ in attempts(policy, sleep=sleep, jitter=jitter, clock=clock):
        try:
            return action()
        except Exception as error:
            if not retryable(error):
                raise
            last = error
    assert last is not None  # at least one attempt ran and failed
    raise last
