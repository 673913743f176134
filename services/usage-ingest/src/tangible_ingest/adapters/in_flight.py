"""Records a failed publish left in the producer, so that a retry sends no second copy.

When Kafka does not acknowledge in time, the request answers 503 and its dedup claim rolls
back, but aiokafka's idempotent producer keeps its batches and delivers them once the
broker is back. The producer's retry of the same event would then put a second record on
the topic (same stable id, so consumers drop it, but it is still a copy). Instead, the retry
waits for the record already on its way, or, if it has landed meanwhile, just claims it.

Kept per process, bounded in size and age; a retry that lands on another replica, or
changes the payload, sends anew (and consumers deduplicate by the stable event id).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from tangible_ingest.domain.model import UsageEvent

Delivery = tuple[asyncio.Future[Any], list[UsageEvent]]  # a batch's future and its events


def _consume_exception(future: asyncio.Future[Any]) -> None:
    """A batch that fails after its request answered: nobody else reads the error."""
    if not future.cancelled():
        future.exception()


class InFlight:
    def __init__(self, max_events: int = 200_000, keep_seconds: float = 600.0) -> None:
        self._max_events = max_events
        self._keep_seconds = keep_seconds
        self._records: dict[bytes, tuple[bytes, asyncio.Future[Any], float]] = {}  # by dedup key

    def __len__(self) -> int:
        return len(self._records)

    def take(self, events: Sequence[UsageEvent]) -> tuple[list[Delivery], list[UsageEvent]]:
        """Split `events` into deliveries already under way and events to send."""
        if not self._records:
            return [], list(events)
        by_future: dict[asyncio.Future[Any], list[UsageEvent]] = {}
        fresh: list[UsageEvent] = []
        for event in events:
            entry = self._records.pop(event.dedup_key, None)
            if entry is None or entry[0] != event.payload_hash or _failed(entry[1]):
                fresh.append(event)
            else:
                by_future.setdefault(entry[1], []).append(event)
        return list(by_future.items()), fresh

    def keep(self, deliveries: Sequence[Delivery]) -> None:
        """Remember the records of a failed publish that may still reach Kafka."""
        now = time.monotonic()
        for future, events in deliveries:
            if _failed(future):
                continue
            future.add_done_callback(_consume_exception)
            for event in events:
                self._records[event.dedup_key] = (event.payload_hash, future, now)
        self._trim(now)

    def _trim(self, now: float) -> None:
        """Oldest first (dicts keep insertion order): past their age or over the bound."""
        cutoff = now - self._keep_seconds
        while self._records:
            key = next(iter(self._records))
            if len(self._records) <= self._max_events and self._records[key][2] >= cutoff:
                return
            del self._records[key]


def _failed(future: asyncio.Future[Any]) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)
