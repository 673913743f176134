"""Scheduled jobs: which (job, period, tenant) already ran, and one runner at a time."""

from __future__ import annotations

import zlib
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


class ScheduleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def try_lock(self, job: str) -> bool:
        """Transaction-scoped: replicas skip a job another replica is running."""
        key = zlib.crc32(f"tangible-notifications:{job}".encode())
        return bool(await self._session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}))

    async def claim_run(self, job: str, period_key: str, tenant_id: str, now: datetime) -> bool:
        """True the first time (job, period, tenant) runs: the marker commits with the work."""
        result = await self._session.execute(
            text(
                """
                INSERT INTO schedule_runs (job, period_key, tenant_id, ran_at) VALUES (:job, :period, :tenant, :now)
                ON CONFLICT DO NOTHING RETURNING job
                """
            ),
            {"job": job, "period": period_key, "tenant": tenant_id, "now": now},
        )
        return result.first() is not None
