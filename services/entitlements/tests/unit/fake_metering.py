"""Fake counters and threshold marks: `_FOLD`, the unique values and "once per period"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tangible_entitlements.domain.metering import CounterDelta, CounterKey, DayDelta, Delta
from tangible_entitlements.domain.model import Aggregation

if TYPE_CHECKING:
    from entitlements_unit.fakes import Store


@dataclass
class Fold:
    """A counter or day row: its value and the newest event folded into it."""

    aggregation: Aggregation
    value: float
    last_event_at: datetime
    period_end: datetime | None = None
    limit: float | None = None
    overage: float = 0.0


def _fold(row: Fold | None, delta: Delta, **extra: Any) -> Fold:
    """`counters._FOLD`: max and latest are idempotent, the others add."""
    if row is None:
        return Fold(delta.aggregation, float(delta.amount), delta.last_event_at, **extra)
    if delta.aggregation is Aggregation.MAX:
        row.value = max(row.value, delta.amount)
    elif delta.aggregation is Aggregation.LATEST:
        row.value = delta.amount if delta.last_event_at >= row.last_event_at else row.value
    else:
        row.value += delta.amount
    row.last_event_at = max(row.last_event_at, delta.last_event_at)
    return row


class FakeCounters:
    def __init__(self, db: Store) -> None:
        self._db = db

    async def apply(
        self, deltas: Sequence[CounterDelta]
    ) -> tuple[dict[CounterKey, float], set[tuple[CounterKey, str]]]:
        new: set[tuple[CounterKey, str]] = set()
        for d in deltas:
            if d.aggregation is Aggregation.UNIQUE_COUNT:
                fresh = {(d.key, v) for v in d.unique_values} - self._db.uniques
                self._db.uniques |= fresh
                new |= fresh
                d.amount = float(len(fresh))
        for d in deltas:
            counters = self._db.counters
            counters[d.key] = _fold(counters.get(d.key), d, period_end=d.period_end)
        return {d.key: self._db.counters[d.key].value for d in deltas}, new

    async def apply_days(self, days: Sequence[DayDelta]) -> None:
        for d in days:
            self._db.days[d.key] = _fold(self._db.days.get(d.key), d)

    async def record_activity(self, activity: Mapping[tuple[str, str, str], datetime]) -> None:
        for user, at in activity.items():
            self._db.activity[user] = max(at, self._db.activity.get(user, at))

    async def set_limits(self, limits: Mapping[CounterKey, tuple[float, bool]]) -> None:
        for key, (limit, hard) in limits.items():
            row = self._db.counters[key]
            row.limit, row.overage = limit, 0.0 if hard else max(row.value - limit, 0.0)

    async def values(self, keys: Sequence[CounterKey]) -> dict[CounterKey, float]:
        return {k: self._db.counters[k].value for k in keys if k in self._db.counters}


class FakeThresholds:
    def __init__(self, db: Store) -> None:
        self._db = db

    async def mark(
        self, marks: Sequence[tuple[CounterKey, int, datetime | None, float]]
    ) -> list[tuple[CounterKey, int]]:
        new = []
        for key, percent, end, limit in marks:
            if (key, percent) not in self._db.marks:
                self._db.marks[(key, percent)] = (end, limit, None)
                new.append((key, percent))
        return new

    async def open_marks(
        self, tenant_id: str, account_id: str, now: datetime
    ) -> list[tuple[CounterKey, int]]:
        return [
            (key, percent)
            for (key, percent), (end, _, recovered) in self._db.marks.items()
            if (key.tenant_id, key.account_id) == (tenant_id, account_id)
            and recovered is None
            and key.period_start <= now
            and (end is None or end > now)
        ]

    async def claim_ended_marks(
        self, now: datetime, limit: int
    ) -> list[tuple[CounterKey, int, datetime, float]]:
        due = sorted(
            (
                (end, key, percent, value)
                for (key, percent), (end, value, rec) in self._db.marks.items()
                if rec is None and end is not None and end <= now
            ),
            key=lambda m: m[0],
        )[:limit]
        await self.mark_recovered([(key, percent) for _, key, percent, _ in due], now)
        return [(key, percent, end, value) for end, key, percent, value in due]

    async def mark_recovered(self, marks: Sequence[tuple[CounterKey, int]], now: datetime) -> None:
        for mark in marks:
            end, limit, recovered = self._db.marks[mark]
            self._db.marks[mark] = (end, limit, recovered or now)
