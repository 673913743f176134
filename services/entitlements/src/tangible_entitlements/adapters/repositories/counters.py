"""Usage counters, daily rollups, user activity and threshold marks. Set-based; never commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.domain.metering import CounterDelta, CounterKey, DayDelta
from tangible_entitlements.domain.model import Aggregation

# max and latest are idempotent folds; the others add (the inbox makes them exactly once)
_FOLD = """
    CASE {t}.aggregation
        WHEN 'max' THEN GREATEST({t}.value, EXCLUDED.value)
        WHEN 'latest' THEN
            CASE WHEN EXCLUDED.last_event_at >= {t}.last_event_at THEN EXCLUDED.value ELSE {t}.value END
        ELSE {t}.value + EXCLUDED.value END
"""

_UPSERT_COUNTERS = text(
    f"""
    INSERT INTO usage_counters AS c
        (tenant_id, account_id, feature_key, period_start, period_end, aggregation, value, last_event_at)
    SELECT * FROM unnest(
        CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:features AS text[]),
        CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]), CAST(:aggregations AS text[]),
        CAST(:amounts AS numeric[]), CAST(:lasts AS timestamptz[]))
    ON CONFLICT (tenant_id, account_id, feature_key, period_start) DO UPDATE SET
        value = {_FOLD.format(t="c")},
        last_event_at = GREATEST(c.last_event_at, EXCLUDED.last_event_at),
        updated_at = now()
    RETURNING tenant_id, account_id, feature_key, period_start, value
    """
)

_UPSERT_DAYS = text(
    f"""
    INSERT INTO usage_daily AS d (tenant_id, account_id, feature_key, day, aggregation, value, last_event_at)
    SELECT * FROM unnest(
        CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:features AS text[]),
        CAST(:days AS date[]), CAST(:aggregations AS text[]), CAST(:amounts AS numeric[]),
        CAST(:lasts AS timestamptz[]))
    ON CONFLICT (tenant_id, account_id, feature_key, day) DO UPDATE SET
        value = {_FOLD.format(t="d")},
        last_event_at = GREATEST(d.last_event_at, EXCLUDED.last_event_at)
    """
)

_INSERT_UNIQUES = text(
    """
    INSERT INTO usage_uniques (tenant_id, account_id, feature_key, period_start, value)
    SELECT * FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:features AS text[]),
                         CAST(:starts AS timestamptz[]), CAST(:values AS text[]))
    ON CONFLICT DO NOTHING
    RETURNING tenant_id, account_id, feature_key, period_start, value
    """
)

_ACTIVITY = text(
    """
    INSERT INTO user_activity AS a (tenant_id, account_id, user_id, last_active_at)
    SELECT * FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:users AS text[]),
                         CAST(:ats AS timestamptz[]))
    ON CONFLICT (tenant_id, account_id, user_id) DO UPDATE
        SET last_active_at = GREATEST(a.last_active_at, EXCLUDED.last_active_at)
        WHERE EXCLUDED.last_active_at > a.last_active_at
    """
)

_LIMITS = text(
    """
    UPDATE usage_counters c
    SET limit_value = w.limit_value,
        overage = CASE WHEN w.soft THEN GREATEST(c.value - w.limit_value, 0) ELSE 0 END
    FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:features AS text[]),
                CAST(:starts AS timestamptz[]), CAST(:limits AS numeric[]), CAST(:softs AS boolean[]))
        AS w(tenant_id, account_id, feature_key, period_start, limit_value, soft)
    WHERE c.tenant_id = w.tenant_id AND c.account_id = w.account_id
      AND c.feature_key = w.feature_key AND c.period_start = w.period_start
      -- a row whose limit and overage stay as they are is not written again (most rows of
      -- most batches: the limit changes with the license, not with usage)
      AND (c.limit_value IS DISTINCT FROM w.limit_value
           OR c.overage IS DISTINCT FROM CASE WHEN w.soft THEN GREATEST(c.value - w.limit_value, 0) ELSE 0 END)
    """
)


def columns(keys: Sequence[CounterKey]) -> dict[str, list[object]]:
    return {
        "tenants": [k.tenant_id for k in keys],
        "accounts": [k.account_id for k in keys],
        "features": [k.feature_key for k in keys],
        "starts": [k.period_start for k in keys],
    }


class CounterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def apply(
        self, deltas: Sequence[CounterDelta]
    ) -> tuple[dict[CounterKey, float], set[tuple[CounterKey, str]]]:
        """Apply every delta in one statement (plus one for unique values); returns the new
        values and the unique values never seen before in their period."""
        new_uniques = await self._insert_uniques(deltas)
        if not deltas:
            return {}, new_uniques
        rows = await self._session.execute(
            _UPSERT_COUNTERS,
            {
                **columns([d.key for d in deltas]),
                "ends": [d.period_end for d in deltas],
                "aggregations": [d.aggregation.value for d in deltas],
                "amounts": [d.amount for d in deltas],
                "lasts": [d.last_event_at for d in deltas],
            },
        )
        values = {
            CounterKey(r.tenant_id, r.account_id, r.feature_key, r.period_start): float(r.value) for r in rows
        }
        return values, new_uniques

    async def _insert_uniques(self, deltas: Sequence[CounterDelta]) -> set[tuple[CounterKey, str]]:
        rows = [
            (d, value)
            for d in deltas
            if d.aggregation is Aggregation.UNIQUE_COUNT
            for value in d.unique_values
        ]
        if not rows:
            return set()
        inserted = await self._session.execute(
            _INSERT_UNIQUES, {**columns([d.key for d, _ in rows]), "values": [v for _, v in rows]}
        )
        new = {
            (CounterKey(r.tenant_id, r.account_id, r.feature_key, r.period_start), r.value) for r in inserted
        }
        for delta in deltas:
            if delta.aggregation is Aggregation.UNIQUE_COUNT:
                delta.amount = float(sum(1 for v in delta.unique_values if (delta.key, v) in new))
        return new

    async def apply_days(self, days: Sequence[DayDelta]) -> None:
        if days:
            await self._session.execute(
                _UPSERT_DAYS,
                {
                    "tenants": [d.key.tenant_id for d in days],
                    "accounts": [d.key.account_id for d in days],
                    "features": [d.key.feature_key for d in days],
                    "days": [d.key.day for d in days],
                    "aggregations": [d.aggregation.value for d in days],
                    "amounts": [d.amount for d in days],
                    "lasts": [d.last_event_at for d in days],
                },
            )

    async def record_activity(self, activity: Mapping[tuple[str, str, str], datetime]) -> None:
        if activity:
            keys = sorted(activity)  # a stable order avoids deadlocks between concurrent batches
            await self._session.execute(
                _ACTIVITY,
                {
                    "tenants": [k[0] for k in keys],
                    "accounts": [k[1] for k in keys],
                    "users": [k[2] for k in keys],
                    "ats": [activity[k] for k in keys],
                },
            )

    async def set_limits(self, limits: Mapping[CounterKey, tuple[float, bool]]) -> None:
        """Record the limit in force and the overage past a soft limit."""
        if limits:
            keys = list(limits)
            await self._session.execute(
                _LIMITS,
                {
                    **columns(keys),
                    "limits": [limits[k][0] for k in keys],
                    "softs": [not limits[k][1] for k in keys],
                },
            )

    async def values(self, keys: Sequence[CounterKey]) -> dict[CounterKey, float]:
        if not keys:
            return {}
        rows = await self._session.execute(
            text(
                """
                SELECT c.tenant_id, c.account_id, c.feature_key, c.period_start, c.value
                FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:features AS text[]),
                            CAST(:starts AS timestamptz[])) AS k(tenant_id, account_id, feature_key, period_start)
                JOIN usage_counters c USING (tenant_id, account_id, feature_key, period_start)
                """
            ),
            columns(keys),
        )
        return {
            CounterKey(r.tenant_id, r.account_id, r.feature_key, r.period_start): float(r.value) for r in rows
        }

    async def current(self, since: datetime) -> list[tuple[CounterKey, datetime | None, float]]:
        """Counters of periods not over before `since` (a read replica's cold start)."""
        rows = await self._session.execute(
            text(
                "SELECT tenant_id, account_id, feature_key, period_start, period_end, value "
                "FROM usage_counters WHERE period_end IS NULL OR period_end > :since"
            ),
            {"since": since},
        )
        return [
            (
                CounterKey(r.tenant_id, r.account_id, r.feature_key, r.period_start),
                r.period_end,
                float(r.value),
            )
            for r in rows
        ]

    async def days(
        self, tenant_id: str, account_id: str, start: date, end: date
    ) -> dict[str, dict[date, float]]:
        rows = await self._session.execute(
            text(
                "SELECT feature_key, day, value FROM usage_daily WHERE tenant_id = :t AND account_id = :a "
                "AND day BETWEEN :s AND :e ORDER BY feature_key, day"
            ),
            {"t": tenant_id, "a": account_id, "s": start, "e": end},
        )
        result: dict[str, dict[date, float]] = {}
        for r in rows:
            result.setdefault(r.feature_key, {})[r.day] = float(r.value)
        return result
