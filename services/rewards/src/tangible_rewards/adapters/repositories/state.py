"""Evaluation state: threshold counters and streak progress, active days, seat holders' activity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_rewards.domain.adoption import Adoption
from tangible_rewards.domain.evaluation import CounterKey, DayKey, MemberKey
from tangible_rewards.domain.streaks import STREAK_PERIOD, StreakProgress

_ADD_COUNTERS = text(
    """
    INSERT INTO progress AS p (tenant_id, account_id, series, period_key, value)
    SELECT * FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:series AS text[]),
                         CAST(:periods AS text[]), CAST(:amounts AS float8[]))
    ON CONFLICT (tenant_id, account_id, series, period_key)
    DO UPDATE SET value = p.value + EXCLUDED.value, updated_at = now()
    RETURNING tenant_id, account_id, series, period_key, value
    """
)

_SET_STREAKS = text(
    """
    INSERT INTO progress AS p (tenant_id, account_id, series, period_key, value, alive_until)
    SELECT t, a, s, :period, v, d
    FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:series AS text[]),
                CAST(:values AS float8[]), CAST(:alive AS date[])) AS x(t, a, s, v, d)
    ON CONFLICT (tenant_id, account_id, series, period_key)
    DO UPDATE SET value = EXCLUDED.value, alive_until = EXCLUDED.alive_until, updated_at = now()
    """
)


class ProgressRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_counters(self, increments: Mapping[CounterKey, float]) -> dict[CounterKey, float]:
        """Add to each counter; returns the totals after the batch (one statement)."""
        if not increments:
            return {}
        keys = list(increments)
        rows = await self._session.execute(
            _ADD_COUNTERS,
            {
                "tenants": [k.tenant_id for k in keys],
                "accounts": [k.account_id for k in keys],
                "series": [k.series for k in keys],
                "periods": [k.period_key for k in keys],
                "amounts": [increments[k] for k in keys],
            },
        )
        return {CounterKey(r.tenant_id, r.account_id, r.series, r.period_key): float(r.value) for r in rows}

    async def set_streaks(self, rows: Sequence[StreakProgress]) -> None:
        if not rows:
            return
        await self._session.execute(
            _SET_STREAKS,
            {
                "period": STREAK_PERIOD,
                "tenants": [r.tenant_id for r in rows],
                "accounts": [r.account_id for r in rows],
                "series": [r.series for r in rows],
                "values": [float(r.value) for r in rows],
                "alive": [r.alive_until for r in rows],
            },
        )

    async def for_account(
        self, tenant_id: str, account_id: str
    ) -> dict[tuple[str, str], tuple[float, date | None]]:
        rows = await self._session.execute(
            text(
                "SELECT series, period_key, value, alive_until FROM progress "
                "WHERE tenant_id = :t AND account_id = :a"
            ),
            {"t": tenant_id, "a": account_id},
        )
        return {(r.series, r.period_key): (float(r.value), r.alive_until) for r in rows}

    async def streaks_past(self, day: date, limit: int) -> list[StreakProgress]:
        """Live streaks whose last unbroken day is before `day` (locked; other replicas skip them)."""
        rows = await self._session.execute(
            text(
                """
                SELECT tenant_id, account_id, series, value, alive_until FROM progress
                WHERE period_key = :period AND value > 0 AND alive_until < :day
                ORDER BY alive_until LIMIT :limit FOR UPDATE SKIP LOCKED
                """
            ),
            {"period": STREAK_PERIOD, "day": day, "limit": limit},
        )
        return [
            StreakProgress(r.tenant_id, r.account_id, r.series, int(r.value), r.alive_until) for r in rows
        ]


class ActivityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_days(self, days: Mapping[DayKey, float]) -> set[DayKey]:
        """Add quantities per local day; returns the days that were not active before."""
        if not days:
            return set()
        keys = list(days)
        rows = await self._session.execute(
            text(
                """
                WITH upserted AS (
                    INSERT INTO daily_activity AS d (tenant_id, account_id, activity_key, day, quantity)
                    SELECT * FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]),
                                         CAST(:keys AS text[]), CAST(:days AS date[]), CAST(:qty AS float8[]))
                    ON CONFLICT (tenant_id, account_id, activity_key, day)
                    DO UPDATE SET quantity = d.quantity + EXCLUDED.quantity
                    RETURNING tenant_id, account_id, activity_key, day, xmax = 0 AS inserted)
                SELECT tenant_id, account_id, activity_key, day FROM upserted WHERE inserted
                """
            ),
            {
                "tenants": [k.tenant_id for k in keys],
                "accounts": [k.account_id for k in keys],
                "keys": [k.activity_key for k in keys],
                "days": [k.day for k in keys],
                "qty": [days[k] for k in keys],
            },
        )
        return {DayKey(r.tenant_id, r.account_id, r.activity_key, r.day) for r in rows}

    async def days(
        self, keys: Iterable[tuple[str, str, str]], since: date
    ) -> dict[tuple[str, str, str], dict[date, float]]:
        """Active days from `since` on, per (tenant, account, activity key)."""
        wanted = sorted(set(keys))
        result: dict[tuple[str, str, str], dict[date, float]] = {k: {} for k in wanted}
        if not wanted:
            return result
        rows = await self._session.execute(
            text(
                """
                SELECT d.tenant_id, d.account_id, d.activity_key, d.day, d.quantity FROM daily_activity d
                JOIN unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:keys AS text[]))
                  AS k(tenant_id, account_id, activity_key)
                  ON d.tenant_id = k.tenant_id AND d.account_id = k.account_id AND d.activity_key = k.activity_key
                WHERE d.day >= :since AND d.quantity > 0
                """
            ),
            {
                "tenants": [k[0] for k in wanted],
                "accounts": [k[1] for k in wanted],
                "keys": [k[2] for k in wanted],
                "since": since,
            },
        )
        for r in rows:
            result[(r.tenant_id, r.account_id, r.activity_key)][r.day] = float(r.quantity)
        return result

    async def touch_members(self, members: Mapping[MemberKey, datetime]) -> None:
        if not members:
            return
        keys = list(members)
        await self._session.execute(
            text(
                """
                INSERT INTO member_activity AS m (tenant_id, account_id, activity_key, user_id, last_active_at)
                SELECT * FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:keys AS text[]),
                                     CAST(:users AS text[]), CAST(:seen AS timestamptz[]))
                ON CONFLICT (tenant_id, account_id, activity_key, user_id)
                DO UPDATE SET last_active_at = GREATEST(m.last_active_at, EXCLUDED.last_active_at)
                """
            ),
            {
                "tenants": [k.tenant_id for k in keys],
                "accounts": [k.account_id for k in keys],
                "keys": [k.activity_key for k in keys],
                "users": [k.user_id for k in keys],
                "seen": [members[k] for k in keys],
            },
        )

    async def adoption(
        self, accounts: Iterable[tuple[str, str]], activity_key: str, active_after: datetime
    ) -> dict[tuple[str, str], Adoption]:
        """Assigned seat holders and those of them active after the cutoff, per account."""
        pairs = sorted(set(accounts))
        if not pairs:
            return {}
        rows = await self._session.execute(
            text(
                """
                SELECT s.tenant_id, s.account_id, count(DISTINCT s.user_id) AS assigned,
                       count(DISTINCT s.user_id) FILTER (WHERE m.last_active_at > :cutoff) AS active,
                       min(m.last_active_at) FILTER (WHERE m.last_active_at > :cutoff) AS oldest_active
                FROM seats s
                JOIN unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[])) AS k(tenant_id, account_id)
                  ON s.tenant_id = k.tenant_id AND s.account_id = k.account_id
                LEFT JOIN member_activity m
                  ON m.tenant_id = s.tenant_id AND m.account_id = s.account_id
                 AND m.activity_key = :key AND m.user_id = s.user_id
                GROUP BY s.tenant_id, s.account_id
                """
            ),
            {
                "tenants": [p[0] for p in pairs],
                "accounts": [p[1] for p in pairs],
                "key": activity_key,
                "cutoff": active_after,
            },
        )
        result = {pair: Adoption(0, 0) for pair in pairs}
        for r in rows:
            result[(r.tenant_id, r.account_id)] = Adoption(int(r.assigned), int(r.active), r.oldest_active)
        return result
