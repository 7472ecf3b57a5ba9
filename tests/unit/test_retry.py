"""The one retry policy: delays grow and are capped, deadlines hold, fatal errors pass at once."""

from __future__ import annotations

import pytest

from alex import retry
from alex.retry import Backoff


class Clock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_delays_double_up_to_the_cap_with_no_sleep_after_the_last_attempt() -> None:
    clock = Clock()
    policy = Backoff(attempts=7, base_s=0.5, cap_s=5.0)

    made = list(retry.attempts(policy, sleep=clock.sleep, jitter=lambda: 1.0, clock=clock))

    assert made == [0, 1, 2, 3, 4, 5, 6]
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_jitter_scales_each_delay_between_zero_and_the_backoff() -> None:
    policy = Backoff(attempts=4, base_s=1.0, cap_s=20.0)
    assert [policy.delay(n, 0.25) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]
    assert policy.delay(3, 0.0) == 0.0


def test_no_retry_starts_whose_sleep_would_pass_the_deadline() -> None:
    clock = Clock()
    policy = Backoff(attempts=10, base_s=1.0, cap_s=100.0, deadline_s=10.0)

    made = list(retry.attempts(policy, sleep=clock.sleep, jitter=lambda: 1.0, clock=clock))

    # Sleeps 1 + 2 + 4 = 7 s; the next (8 s) would end at 15 s, past the 10 s deadline.
    assert made == [0, 1, 2, 3]
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_call_retries_retryable_errors_then_returns() -> None:
    clock = Clock()
    outcomes: list[object] = [TimeoutError("slow"), TimeoutError("slow"), "done"]

    def action() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    answer = retry.call(
        action,
        Backoff(attempts=5, base_s=0.5, cap_s=20.0),
        lambda error: isinstance(error, TimeoutError),
        sleep=clock.sleep,
        jitter=lambda: 0.5,
        clock=clock,
    )
    assert answer == "done" and clock.sleeps == [0.25, 0.5]


def test_call_raises_a_non_retryable_error_at_once() -> None:
    clock = Clock()
    calls: list[int] = []

    def action() -> None:
        calls.append(1)
        raise PermissionError("denied")

    with pytest.raises(PermissionError, match="denied"):
        retry.call(
            action,
            Backoff(attempts=5, base_s=0.5, cap_s=20.0),
            lambda error: isinstance(error, TimeoutError),
            sleep=clock.sleep,
            clock=clock,
        )
    assert calls == [1] and clock.sleeps == []


def test_call_raises_the_last_error_when_attempts_run_out() -> None:
    clock = Clock()
    errors = iter([TimeoutError("first"), TimeoutError("second"), TimeoutError("third")])

    def action() -> None:
        raise next(errors)

    with pytest.raises(TimeoutError, match="third"):
        retry.call(
            action,
            Backoff(attempts=3, base_s=1.0, cap_s=20.0),
            lambda error: True,
            sleep=clock.sleep,
            jitter=lambda: 1.0,
            clock=clock,
        )
    assert clock.sleeps == [1.0, 2.0]


def test_a_policy_needs_one_attempt() -> None:
    with pytest.raises(ValueError, match="attempts must be >= 1"):
        Backoff(attempts=0, base_s=1.0, cap_s=1.0)
    assert Backoff(attempts=3, base_s=1.0, cap_s=1.0).with_attempts(0).attempts == 1
