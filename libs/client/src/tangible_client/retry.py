"""When and how long to wait before resending a batch (tenacity underneath)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type
from tenacity.stop import stop_after_attempt, stop_before_delay
from tenacity.wait import wait_random_exponential

from tangible_client.reports import Reason

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, never sooner than the server's Retry-After."""

    max_attempts: int = 10
    initial_backoff: float = 0.5  # seconds; the jitter window doubles per attempt from here
    max_backoff: float = 30.0
    deadline: float = 300.0  # a batch is reported failed rather than retried past this

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.initial_backoff <= self.max_backoff:
            raise ValueError("need 0 < initial_backoff <= max_backoff")
        if self.deadline <= 0:
            raise ValueError("deadline must be positive")

    def retrying(self, sleep: Sleep) -> AsyncRetrying:
        """A fresh tenacity controller for one batch."""
        jitter = wait_random_exponential(multiplier=self.initial_backoff, max=self.max_backoff)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            floor = error.retry_after if isinstance(error, RetryableError) and error.retry_after else 0.0
            return max(floor, jitter(state))

        return AsyncRetrying(
            retry=retry_if_exception_type(RetryableError),
            wait=wait,
            # stop_before_delay counts the coming wait, so a Retry-After beyond the
            # deadline fails the batch now instead of sleeping first.
            stop=stop_after_attempt(self.max_attempts) | stop_before_delay(self.deadline),
            sleep=sleep,
            reraise=True,
        )


class RetryableError(Exception):
    """A transient failure: 429, 5xx or a network error."""

    def __init__(self, reason: Reason, retry_after: float | None = None) -> None:
        super().__init__(reason.message)
        self.reason = reason
        self.retry_after = retry_after


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
