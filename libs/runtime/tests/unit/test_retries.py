"""`retrying`: which failures are retried, when it gives up, the backoff, one log line a failure."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tenacity import RetryCallState

from tangible_runtime import retries
from tangible_runtime.errors import is_transient
from tangible_runtime.retries import NO_WAIT, Backoff, retrying


class Flaky:
    """Raises the given errors, one a call, then returns the number of calls."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.calls


class RecordingLog:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> RecordingLog:
    recording = RecordingLog()
    monkeypatch.setattr(retries, "log", recording)
    return recording


async def test_failures_are_retried_until_the_operation_succeeds_with_one_log_line_each(
    log: RecordingLog,
) -> None:
    flaky = Flaky(ConnectionError("down"), ValueError("odd"))
    assert await retrying(flaky, backoff=NO_WAIT, log_event="thing_failed", worker="w1") == 3
    assert [(event, fields["attempt"], fields["worker"]) for event, fields in log.lines] == [
        ("thing_failed", 1, "w1"),
        ("thing_failed", 2, "w1"),
    ]
    assert log.lines[0][1]["error"] == "ConnectionError('down')"


async def test_a_traceback_is_logged_when_asked(log: RecordingLog) -> None:
    error = RuntimeError("bug")
    await retrying(Flaky(error), backoff=NO_WAIT, log_event="relay_failed", traceback=True)
    assert log.lines == [("relay_failed", {"attempt": 1, "exc_info": error})]


async def test_an_error_the_predicate_refuses_propagates_at_once_unlogged(log: RecordingLog) -> None:
    flaky = Flaky(ValueError("bad data"), ValueError("bad data"))
    with pytest.raises(ValueError):
        await retrying(flaky, backoff=NO_WAIT, retry_if=is_transient)
    assert flaky.calls == 1
    assert log.lines == []


async def test_cancellation_is_never_retried() -> None:
    flaky = Flaky(asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        await retrying(flaky, backoff=NO_WAIT)
    assert flaky.calls == 1


async def test_give_up_ends_the_retries_with_the_last_error_after_logging_it(log: RecordingLog) -> None:
    flaky = Flaky(ConnectionError("1"), ValueError("2"), ValueError("3"), ValueError("4"))
    with pytest.raises(ValueError, match="3"):
        await retrying(
            flaky,
            backoff=NO_WAIT,
            give_up=lambda error, attempts: not is_transient(error) and attempts >= 3,
        )
    assert flaky.calls == 3  # the transient failure counted as an attempt, as before
    assert [fields["attempt"] for _, fields in log.lines] == [1, 2, 3]


async def test_on_failure_replaces_the_default_log_line(log: RecordingLog) -> None:
    seen: list[tuple[str, int]] = []
    await retrying(
        Flaky(OSError("a"), OSError("b")),
        backoff=NO_WAIT,
        on_failure=lambda error, attempt: seen.append((str(error), attempt)),
    )
    assert seen == [("a", 1), ("b", 2)]
    assert log.lines == []


async def test_within_seconds_bounds_the_time_spent_retrying() -> None:
    never = Flaky(*[TimeoutError()] * 10_000)
    with pytest.raises(TimeoutError):
        await retrying(never, backoff=Backoff(first=0.005, maximum=0.005, jitter=0.0), within_seconds=0.03)
    assert 2 <= never.calls < 50


async def test_without_a_bound_it_retries_as_long_as_it_fails() -> None:
    flaky = Flaky(*[KeyError("x")] * 200)
    assert await retrying(flaky, backoff=NO_WAIT) == 201


def state(attempt: int) -> RetryCallState:
    retry_state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    retry_state.attempt_number = attempt
    return retry_state


def test_the_delay_doubles_from_the_first_up_to_the_maximum() -> None:
    backoff = Backoff(first=0.2, maximum=5.0, jitter=0.0)
    assert [backoff.delay(state(n)) for n in range(1, 8)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]


def test_jitter_spreads_each_delay_by_up_to_its_amount_also_at_the_maximum() -> None:
    backoff = Backoff(first=1.0, maximum=4.0, jitter=0.5)
    for attempt, base in ((1, 1.0), (10, 4.0)):
        delays = [backoff.delay(state(attempt)) for _ in range(200)]
        assert all(base <= d <= base + 0.5 for d in delays)
        assert len(set(delays)) > 100  # replicas that failed together do not retry together
