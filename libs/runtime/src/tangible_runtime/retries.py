"""Retries with exponential backoff and jitter, on tenacity: one shape for every loop that
waits out a failure (a handler, the relay, a crashed worker, a broker still starting).

Jitter matters because failures are shared: when the broker or the database comes back,
every replica that waited for it would otherwise retry in the same instant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_delay, stop_never
from tenacity.stop import stop_base
from tenacity.wait import wait_exponential, wait_random

from tangible_runtime.logs import get_logger

T = TypeVar("T")

log = get_logger(__name__)

# called after each failed attempt that will be retried or given up on: (error, attempt number)
FailureLog = Callable[[Exception, int], None]


@dataclass(frozen=True, slots=True)
class Backoff:
    """`first` seconds before the first retry, doubling up to `maximum`; a random delay of up
    to `jitter` seconds is added to each (also at the maximum, where waiters would fall into step)."""

    first: float
    maximum: float
    jitter: float

    def delay(self, retry_state: RetryCallState) -> float:
        exponential = wait_exponential(multiplier=self.first, max=self.maximum)
        return float(exponential(retry_state) + wait_random(0, self.jitter)(retry_state))


NO_WAIT = Backoff(first=0.0, maximum=0.0, jitter=0.0)


def _every_error(error: Exception) -> bool:
    return True


def _never(error: Exception, attempts: int) -> bool:
    return False


class _GiveUp(stop_base):
    def __init__(self, give_up: Callable[[Exception, int], bool]) -> None:
        self._give_up = give_up

    def __call__(self, retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        return isinstance(error, Exception) and self._give_up(error, retry_state.attempt_number)


async def retrying(
    operation: Callable[[], Awaitable[T]],
    *,
    backoff: Backoff,
    log_event: str = "retrying",
    traceback: bool = False,
    retry_if: Callable[[Exception], bool] = _every_error,
    give_up: Callable[[Exception, int], bool] = _never,
    within_seconds: float | None = None,
    on_failure: FailureLog | None = None,
    **log_fields: object,
) -> T:
    """`operation()`'s result, calling it again after each failure that `retry_if` accepts,
    until it succeeds or `give_up(error, attempts)` says so or `within_seconds` have passed
    (then the last error is raised; without either, it retries without end). An error
    `retry_if` refuses, and cancellation, propagate at once.

    Each failure is logged: by default one warning `log_event` with the attempt number,
    the error (its traceback too with `traceback`) and `log_fields`; `on_failure` replaces
    that line."""

    def log_failure(retry_state: RetryCallState) -> None:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if not isinstance(error, Exception):
            return
        if on_failure is not None:
            on_failure(error, retry_state.attempt_number)
        elif traceback:
            log.warning(log_event, attempt=retry_state.attempt_number, exc_info=error, **log_fields)
        else:
            log.warning(log_event, attempt=retry_state.attempt_number, error=repr(error), **log_fields)

    stop: stop_base = _GiveUp(give_up)
    stop = stop | (stop_after_delay(within_seconds) if within_seconds is not None else stop_never)
    attempts = AsyncRetrying(
        sleep=asyncio.sleep,
        wait=backoff.delay,
        retry=retry_if_exception(lambda error: isinstance(error, Exception) and retry_if(error)),
        stop=stop,
        after=log_failure,
        reraise=True,
    )
    async for attempt in attempts:
        with attempt:
            return await operation()
    raise AssertionError("unreachable: tenacity returns the result or raises the last error")
