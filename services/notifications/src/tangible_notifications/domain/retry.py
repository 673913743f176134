"""When to try a delivery again: exponential backoff with jitter over a retry window.

The last attempt is placed at the end of the window, so a failing receiver is tried for
the whole window (24 h by default) however the jitter falls. `Retry-After` is honoured:
never earlier than the receiver asked.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # worth another try
    REJECTED = "rejected"  # will not get better by retrying (SMTP 5xx: no such mailbox)
    GONE = "gone"  # 410: the receiver asks us to stop; the endpoint is disabled
    REFUSED = "refused"  # the SSRF guard refused the target


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    retry_after: timedelta | None = None
    duration_ms: int = 0


@dataclass(frozen=True)
class RetryPolicy:
    window: timedelta = timedelta(hours=24)
    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=5)
    jitter: float = 0.25
    max_retry_after: timedelta = timedelta(hours=24)

    def backoff(self, attempt: int, rng: random.Random | None = None) -> timedelta:
        """Delay after the n-th failed attempt (1-based): base·4^(n-1), capped, ±jitter."""
        raw = min(self.cap.total_seconds(), self.base.total_seconds() * 4 ** max(0, attempt - 1))
        spread = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return timedelta(seconds=raw * spread)

    def next_attempt(
        self,
        *,
        attempt: int,
        series_started_at: datetime,
        now: datetime,
        retry_after: timedelta | None = None,
        rng: random.Random | None = None,
    ) -> datetime | None:
        """When to try again after a failed attempt, or None once the window is spent."""
        deadline = series_started_at + self.window
        if now >= deadline:
            return None
        at = min(now + self.backoff(attempt, rng), deadline)
        if retry_after is not None:
            at = max(at, now + min(retry_after, self.max_retry_after))
        return at


def classify_status(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.SUCCEEDED
    if status == 410:
        return Outcome.GONE
    # as Standard Webhooks senders do, any other answer is retried: a 401 from a receiver
    # whose secret is being rotated, or a redirect (never followed), may well clear up
    return Outcome.FAILED


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """RFC 9110 Retry-After: delay-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(timedelta(0), moment - now)
