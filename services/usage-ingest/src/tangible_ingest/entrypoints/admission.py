"""Load shedding: a bound on the events one process holds in flight.

Past its capacity a process that keeps accepting requests only queues them in its event
loop: every request gets slower, memory grows with the queue, and clients time out and
resend what is already queued. Instead, a request that finds the process full is answered
503 at once, before its body is read, with a short jittered `Retry-After`; clients back off
and resend the same events (same ids: ingest's deduplication makes that exactly once).

Two checks: on arrival (the body not read yet, so its size unknown) a request is shed when
the bound is already reached; once parsed, a batch is shed when its events would go past
the bound, unless nothing else is in flight (a batch larger than the bound must still pass).
Health, readiness and metrics are other routes and never come here.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Admission:
    def __init__(
        self,
        max_events: int,
        retry_after_seconds: int = 1,
        jitter: Callable[[int, int], int] = random.randint,
    ) -> None:
        if max_events < 1:
            raise ValueError("max_events must be at least 1")
        self.max_events = max_events
        self._retry_after = max(1, retry_after_seconds)
        self._jitter = jitter
        self.events = 0  # events of admitted requests not yet answered

    def full(self) -> bool:
        """On arrival: is there no room left at all?"""
        return self.events >= self.max_events

    def admit(self, count: int) -> bool:
        """Take `count` events in, or refuse them (the caller sheds the request)."""
        if self.events and self.events + count > self.max_events:
            return False
        self.events += count
        return True

    def release(self, count: int) -> None:
        self.events -= count

    def retry_after(self) -> str:
        """Seconds to wait, jittered over [base, 2·base] so shed clients come back spread out."""
        return str(self._jitter(self._retry_after, 2 * self._retry_after))
