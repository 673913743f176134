"""Threshold marks: each percentage crossed once per period, and recovered once. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.adapters.repositories.counters import columns
from tangible_entitlements.domain.metering import CounterKey

_MARK = text(
    """
    INSERT INTO threshold_marks (tenant_id, account_id, feature_key, period_start, percent, period_end, limit_value)
    SELECT * FROM unnest(
        CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:features AS text[]),
        CAST(:starts AS timestamptz[]), CAST(:percents AS int[]), CAST(:ends AS timestamptz[]),
        CAST(:limits AS numeric[]))
    ON CONFLICT DO NOTHING
    RETURNING tenant_id, account_id, feature_key, period_start, percent
    """
)


class ThresholdRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def mark(
        self, marks: Sequence[tuple[CounterKey, int, datetime | None, float]]
    ) -> list[tuple[CounterKey, int]]:
        """Record crossings; returns only those never recorded before (once per period)."""
        if not marks:
            return []
        rows = await self._session.execute(
            _MARK,
            {
                **columns([m[0] for m in marks]),
                "percents": [m[1] for m in marks],
                "ends": [m[2] for m in marks],
                "limits": [m[3] for m in marks],
            },
        )
        return [
            (CounterKey(r.tenant_id, r.account_id, r.feature_key, r.period_start), r.percent) for r in rows
        ]

    async def open_marks(
        self, tenant_id: str, account_id: str, now: datetime
    ) -> list[tuple[CounterKey, int]]:
        """Crossings of the current periods not yet recovered (for a limit increase)."""
        rows = await self._session.execute(
            text(
                "SELECT tenant_id, account_id, feature_key, period_start, percent FROM threshold_marks "
                "WHERE tenant_id = :t AND account_id = :a AND recovered_at IS NULL "
                "AND period_start <= :now AND (period_end IS NULL OR period_end > :now) FOR UPDATE"
            ),
            {"t": tenant_id, "a": account_id, "now": now},
        )
        return [
            (CounterKey(r.tenant_id, r.account_id, r.feature_key, r.period_start), r.percent) for r in rows
        ]

    async def claim_ended_marks(
        self, now: datetime, limit: int
    ) -> list[tuple[CounterKey, int, datetime, float]]:
        """Crossings whose period has ended, marked recovered here; SKIP LOCKED lets several
        schedulers share the work and each mark is claimed once."""
        rows = await self._session.execute(
            text(
                """
                UPDATE threshold_marks m SET recovered_at = :now
                FROM (SELECT tenant_id, account_id, feature_key, period_start, percent FROM threshold_marks
                      WHERE recovered_at IS NULL AND period_end IS NOT NULL AND period_end <= :now
                      ORDER BY period_end LIMIT :n FOR UPDATE SKIP LOCKED) due
                WHERE m.tenant_id = due.tenant_id AND m.account_id = due.account_id
                  AND m.feature_key = due.feature_key AND m.period_start = due.period_start
                  AND m.percent = due.percent
                RETURNING m.tenant_id, m.account_id, m.feature_key, m.period_start, m.percent,
                          m.period_end, m.limit_value
                """
            ),
            {"now": now, "n": limit},
        )
        return [
            (
                CounterKey(r.tenant_id, r.account_id, r.feature_key, r.period_start),
                r.percent,
                r.period_end,
                float(r.limit_value or 0),
            )
            for r in rows
        ]

    async def mark_recovered(self, marks: Sequence[tuple[CounterKey, int]], now: datetime) -> None:
        if marks:
            await self._session.execute(
                text(
                    """
                    UPDATE threshold_marks m SET recovered_at = :now
                    FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:features AS text[]),
                                CAST(:starts AS timestamptz[]), CAST(:percents AS int[]))
                        AS w(tenant_id, account_id, feature_key, period_start, percent)
                    WHERE m.tenant_id = w.tenant_id AND m.account_id = w.account_id
                      AND m.feature_key = w.feature_key AND m.period_start = w.period_start
                      AND m.percent = w.percent AND m.recovered_at IS NULL
                    """
                ),
                {**columns([m[0] for m in marks]), "percents": [m[1] for m in marks], "now": now},
            )
