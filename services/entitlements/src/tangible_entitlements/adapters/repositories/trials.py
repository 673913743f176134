"""Trial rows: who trialled what, when it ends, how it ended. Never commits."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.adapters import tables as t
from tangible_entitlements.adapters.repositories.rows import from_row
from tangible_entitlements.domain.model import Trial


def trial_from_row(row: RowMapping) -> Trial:
    return from_row(Trial, row, features=tuple(row["features"]))


class TrialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, trial: Trial) -> None:
        await self._session.execute(
            insert(t.trials).values(**{**asdict(trial), "features": list(trial.features)})
        )

    async def get(self, tenant_id: str, trial_id: str, *, for_update: bool = False) -> Trial | None:
        query = select(t.trials).where(t.trials.c.tenant_id == tenant_id, t.trials.c.id == trial_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).mappings().first()
        return trial_from_row(row) if row else None

    async def past_targets(self, tenant_id: str, account_id: str) -> list[tuple[str, str]]:
        """(kind, key) of every trial the account ever had (eligibility)."""
        c = t.trials.c
        rows = await self._session.execute(
            select(c.target_kind, c.target_key).where(c.tenant_id == tenant_id, c.account_id == account_id)
        )
        return [(r.target_kind, r.target_key) for r in rows]

    async def running_features(self, tenant_id: str, license_id: str) -> list[frozenset[str]]:
        c = t.trials.c
        rows = await self._session.execute(
            select(c.features).where(
                c.tenant_id == tenant_id, c.license_id == license_id, c.status == "active"
            )
        )
        return [frozenset(r.features) for r in rows]

    async def finish(self, tenant_id: str, trial_id: str, status: str, at: datetime) -> None:
        await self._session.execute(
            update(t.trials)
            .where(t.trials.c.tenant_id == tenant_id, t.trials.c.id == trial_id)
            .values(status=status, ended_at=at)
        )

    async def page_for_account(
        self, tenant_id: str, account_id: str, *, status: str | None, limit: int, offset: int
    ) -> tuple[list[Trial], int]:
        c = t.trials.c
        where = [c.tenant_id == tenant_id, c.account_id == account_id]
        if status is not None:
            where.append(c.status == status)
        rows = await self._session.execute(
            select(t.trials).where(*where).order_by(c.started_at.desc(), c.id).limit(limit).offset(offset)
        )
        total = await self._session.scalar(select(func.count()).select_from(t.trials).where(*where))
        return [trial_from_row(r) for r in rows.mappings()], int(total or 0)

    async def claim_due(self, now: datetime, limit: int) -> list[Trial]:
        """Running trials past their end, with their license row, locked; SKIP LOCKED lets
        replicas share the work and never wait on a license an API call is changing."""
        rows = await self._session.execute(
            text(
                """
                SELECT tr.* FROM trials tr
                JOIN licenses l ON l.tenant_id = tr.tenant_id AND l.id = tr.license_id
                WHERE tr.status = 'active' AND tr.ends_at <= :now
                ORDER BY tr.ends_at LIMIT :n
                FOR UPDATE OF tr, l SKIP LOCKED
                """
            ),
            {"now": now, "n": limit},
        )
        return [trial_from_row(r) for r in rows.mappings()]

    async def claim_ending_soon(self, now: datetime, default_days: int, limit: int) -> list[Trial]:
        """Running trials within their tenant's lead time of the end, marked announced here
        (once). A trial no longer than the lead time is never "ending soon"."""
        rows = await self._session.execute(
            text(
                """
                UPDATE trials tr SET ending_soon_announced_at = :now
                FROM (
                    SELECT x.id FROM trials x
                    LEFT JOIN tenant_settings s ON s.tenant_id = x.tenant_id
                    CROSS JOIN LATERAL (SELECT make_interval(days => coalesce(
                        (s.lifecycle ->> 'trial_ending_soon_days')::int, :days)) AS lead) d
                    WHERE x.status = 'active' AND x.ending_soon_announced_at IS NULL
                      AND x.ends_at > :now AND x.ends_at - d.lead <= :now AND x.ends_at - d.lead > x.started_at
                    ORDER BY x.ends_at LIMIT :n FOR UPDATE OF x SKIP LOCKED
                ) due
                WHERE tr.id = due.id
                RETURNING tr.*
                """
            ),
            {"now": now, "days": default_days, "n": limit},
        )
        return [trial_from_row(r) for r in rows.mappings()]
