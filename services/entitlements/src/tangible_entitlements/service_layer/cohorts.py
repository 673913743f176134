"""The usage report's peer ranking: each (plan, feature, period)'s distribution, computed once.

Summing the period of every account on a plan costs time in proportion to the plan's size
(about a second with 2,000 accounts on a loaded machine), and every report of every account on
that plan needs the same figures. So each distribution is read once per `ttl` of the service's
clock, by one request while any others asking for it wait, and each account's rank is then a
bisection. The account's own total is always the fresh one; the others' are at most `ttl` old.
A plan smaller than `min_members` is cheap to sum and is read afresh every time, exactly.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tangible_entitlements.domain.model import Aggregation


@dataclass(frozen=True)
class CohortKey:
    tenant_id: str
    plan_key: str
    feature_key: str
    aggregation: Aggregation
    start: date
    end: date


@dataclass(frozen=True)
class Distribution:
    """Every member's total, sorted; no account's identity."""

    totals: tuple[float, ...]
    computed_at: datetime

    def percentile_rank(self, mine: float) -> float:
        """Where `mine` stands, 0–100, ties counted half, whole numbers (a position, no more).
        Read fresh, the distribution holds `mine` and the rank is exact. Read before the
        account's latest usage (or before it joined the plan), it may not: `mine` is then
        counted in, and its older figure stays among the others (one position off at most)."""
        near = 1e-9 * max(1.0, abs(mine))  # the database and Python may sum in another order
        below = bisect_left(self.totals, mine - near)
        equal = bisect_right(self.totals, mine + near) - below
        size = len(self.totals)
        if equal == 0:
            equal, size = 1, size + 1
        return float(round(100 * (below + 0.5 * equal) / size))

    def __len__(self) -> int:
        return len(self.totals)


Load = Callable[[], Awaitable[Sequence[float]]]


class CohortDistributions:
    """Per process: at most `max_entries` distributions, the least recently read dropped first."""

    def __init__(self, ttl: timedelta, *, min_members: int, max_entries: int = 4096) -> None:
        self._ttl = ttl
        self._min_members = min_members
        self._max_entries = max_entries
        self._cached: OrderedDict[CohortKey, Distribution] = OrderedDict()
        self._loading: dict[CohortKey, asyncio.Future[Distribution]] = {}

    async def get(self, key: CohortKey, now: datetime, load: Load) -> Distribution:
        while True:
            cached = self._cached.get(key)
            if cached is not None and now - cached.computed_at < self._ttl:
                self._cached.move_to_end(key)
                return cached
            pending = self._loading.get(key)
            if pending is None:
                return await self._load(key, now, load)
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this request was cancelled, not the one reading for it
                # the request reading it went away (its client did): read it ourselves

    async def _load(self, key: CohortKey, now: datetime, load: Load) -> Distribution:
        future: asyncio.Future[Distribution] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            distribution = Distribution(tuple(sorted(await load())), now)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as failed:
            future.set_exception(failed)
            future.exception()  # retrieved: a failure no other request waited for is not logged
            raise
        finally:
            del self._loading[key]
        future.set_result(distribution)
        if self._ttl > timedelta(0) and len(distribution) >= self._min_members:
            self._cached[key] = distribution
            self._cached.move_to_end(key)
            while len(self._cached) > self._max_entries:
                self._cached.popitem(last=False)
        return distribution
