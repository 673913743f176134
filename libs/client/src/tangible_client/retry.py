"""When and how long to wait before resending a batch (tenacity underneath)."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type
from tenacity.stop import stop_base, stop_before_delay
from tenacity.wait import wait_random_exponential

from tangible_client.reports import Reason

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter; the server's Retry-After, jittered, when it sends one.

    An answer that says "nothing accepted, come back after Retry-After" (a 429, or a 503 with
    Retry-After: usage-ingest shedding load or waiting for Kafka) is throttling, not failure:
    it does not use up `max_attempts`, only `deadline` bounds it, so under overload a batch
    waits its turn instead of being dropped."""

    max_attempts: int = 10  # failures without Retry-After (network errors, other 5xx)
    initial_backoff: float = 0.5  # seconds; the jitter window doubles per attempt from here
    max_backoff: float = 30.0
    deadline: float = 300.0  # a batch is reported failed rather than retried past this
    max_retry_after: float = 60.0  # a longer Retry-After is waited this long
    # a Retry-After of s is waited s·(1 + u·retry_after_jitter), u uniform in [0, 1): clients
    # shed together do not all come back in the same instant
    retry_after_jitter: float = 0.5
    rng: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.initial_backoff <= self.max_backoff:
            raise ValueError("need 0 < initial_backoff <= max_backoff")
        if self.deadline <= 0:
            raise ValueError("deadline must be positive")
        if self.max_retry_after < 0 or self.retry_after_jitter < 0:
            raise ValueError("max_retry_after and retry_after_jitter must not be negative")

    def retrying(self, sleep: Sleep) -> AsyncRetrying:
        """A fresh tenacity controller for one batch."""
        jitter = wait_random_exponential(multiplier=self.initial_backoff, max=self.max_backoff)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, RetryableError) and error.retry_after is not None:
                return self.server_wait(error.retry_after)
            return jitter(state)

        return AsyncRetrying(
            retry=retry_if_exception_type(RetryableError),
            wait=wait,
            # stop_before_delay counts the coming wait, so a Retry-After beyond the
            # deadline fails the batch now instead of sleeping first.
            stop=_FailedAttempts(self.max_attempts) | stop_before_delay(self.deadline),
            sleep=sleep,
            reraise=True,
        )

    def server_wait(self, retry_after: float) -> float:
        """The wait for a Retry-After of `retry_after` seconds: capped, then jittered upwards."""
        capped = min(retry_after, self.max_retry_after)
        return capped * (1 + self.rng() * self.retry_after_jitter)


def jittered_backoff(
    failures: int, initial: float, maximum: float, rng: Callable[[], float] = random.random
) -> float:
    """The wait after `failures` failures in a row (1 for the first), with full jitter: uniform
    in [0, min(maximum, initial · 2^(failures-1))), tenacity's `wait_random_exponential`, for
    loops that are not one call retried (a stream that reconnects after ending, too)."""
    return rng() * min(maximum, initial * 2.0 ** min(max(failures - 1, 0), 64))


class _FailedAttempts(stop_base):
    """Stops after `limit` attempts that failed without being throttled (see RetryPolicy)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._failed = 0

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if not (isinstance(error, RetryableError) and error.throttled):
            self._failed += 1
        return self._failed >= self._limit


class RetryableError(Exception):
    """A transient failure: 429, 5xx or a network error. `throttled`: the server asked to
    come back later (429, or 503 with Retry-After) and accepted nothing."""

    def __init__(self, reason: Reason, retry_after: float | None = None, *, throttled: bool = False) -> None:
        super().__init__(reason.message)
        self.reason = reason
        self.retry_after = retry_after
        self.throttled = throttled


def is_throttled(status: int, retry_after: float | None) -> bool:
    """A 429, or a 503 that says when to come back: nothing accepted, and the server is fine."""
    return status == 429 or (status == 503 and retry_after is not None)


def is_retryable_status(status: int) -> bool:
    """429 and 5xx may succeed later; any other 4xx would fail the same way again."""
    return status == 429 or status >= 500


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), None if absent or bad."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - (now or datetime.now(UTC))).total_seconds(), 0.0)
