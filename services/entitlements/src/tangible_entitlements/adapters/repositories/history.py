"""The hash-chained history of licenses, seats, trials and grants. Never commits.

Appending locks each account's chain head row (in a stable order, so concurrent writers
queue instead of deadlocking), so every record links to the one written before it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.adapters import tables as t
from tangible_entitlements.adapters.repositories.rows import from_row
from tangible_entitlements.domain.audit import GENESIS, HistoryEntry, chain
from tangible_entitlements.service_layer.reads import HistoryFilter, HistoryRecord

# records whose `after` is not a license snapshot (as-of reads skip them)
NOT_SNAPSHOTS = ("seat_assigned", "seat_unassigned", "grant_applied", "grant_ended")

_LOCK_HEADS = text(
    """
    INSERT INTO history_heads AS h (tenant_id, account_id, seq, hash)
    SELECT k.tenant_id, k.account_id, 0, :genesis
    FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[])) AS k(tenant_id, account_id)
    ON CONFLICT (tenant_id, account_id) DO UPDATE SET seq = h.seq
    RETURNING tenant_id, account_id, seq, hash
    """
)
_MOVE_HEADS = text(
    """
    UPDATE history_heads h SET seq = w.seq, hash = w.hash
    FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:seqs AS bigint[]),
                CAST(:hashes AS text[])) AS w(tenant_id, account_id, seq, hash)
    WHERE h.tenant_id = w.tenant_id AND h.account_id = w.account_id
    """
)


class HistoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, entries: Sequence[HistoryEntry]) -> None:
        if not entries:
            return
        accounts = sorted({(e.tenant_id, e.account_id) for e in entries})
        rows = await self._session.execute(
            _LOCK_HEADS,
            {"genesis": GENESIS, "tenants": [a[0] for a in accounts], "accounts": [a[1] for a in accounts]},
        )
        heads = {(r.tenant_id, r.account_id): (int(r.seq), str(r.hash)) for r in rows}
        records, moved = chain(entries, heads)
        await self._session.execute(insert(t.license_history), records)
        await self._session.execute(
            _MOVE_HEADS,
            {
                "tenants": [a[0] for a in accounts],
                "accounts": [a[1] for a in accounts],
                "seqs": [moved[a][0] for a in accounts],
                "hashes": [moved[a][1] for a in accounts],
            },
        )

    def _where(self, tenant_id: str, account_id: str, filters: HistoryFilter) -> list[ColumnElement[bool]]:
        c = t.license_history.c
        where = [c.tenant_id == tenant_id, c.account_id == account_id]
        if filters.actions:
            where.append(c.action.in_(list(filters.actions)))
        if filters.license_id:
            where.append(c.license_id == filters.license_id)
        if filters.actor:
            where.append(c.actor == filters.actor)
        if filters.since:
            where.append(c.at >= filters.since)
        if filters.until:
            where.append(c.at < filters.until)
        return where

    async def page(
        self, tenant_id: str, account_id: str, filters: HistoryFilter, *, limit: int, offset: int
    ) -> tuple[list[HistoryRecord], int]:
        where = self._where(tenant_id, account_id, filters)
        c = t.license_history.c
        rows = await self._session.execute(
            select(t.license_history).where(*where).order_by(c.seq).limit(limit).offset(offset)
        )
        total = await self._session.scalar(select(func.count()).select_from(t.license_history).where(*where))
        return [from_row(HistoryRecord, r) for r in rows.mappings()], int(total or 0)

    async def for_license(
        self, tenant_id: str, license_id: str, *, limit: int, offset: int
    ) -> tuple[list[HistoryRecord], int]:
        c = t.license_history.c
        where = (c.tenant_id == tenant_id, c.license_id == license_id)
        rows = await self._session.execute(
            select(t.license_history).where(*where).order_by(c.id).limit(limit).offset(offset)
        )
        total = await self._session.scalar(select(func.count()).select_from(t.license_history).where(*where))
        return [from_row(HistoryRecord, r) for r in rows.mappings()], int(total or 0)

    async def batches(
        self, tenant_id: str, account_id: str, filters: HistoryFilter, size: int = 1000
    ) -> AsyncIterator[list[HistoryRecord]]:
        """Every matching record in chain order, a batch at a time (keyset on seq)."""
        c = t.license_history.c
        after = 0
        while True:
            query = (
                select(t.license_history)
                .where(*self._where(tenant_id, account_id, filters), c.seq > after)
                .order_by(c.seq)
                .limit(size)
            )
            records = [from_row(HistoryRecord, r) for r in (await self._session.execute(query)).mappings()]
            if not records:
                return
            yield records
            after = records[-1].seq

    async def hashes(self, tenant_id: str, account_id: str, seqs: Sequence[int]) -> dict[int, str]:
        c = t.license_history.c
        rows = await self._session.execute(
            select(c.seq, c.hash).where(
                c.tenant_id == tenant_id, c.account_id == account_id, c.seq.in_(list(seqs))
            )
        )
        return {int(r.seq): str(r.hash) for r in rows}

    async def head(self, tenant_id: str, account_id: str) -> tuple[int, str] | None:
        h = t.history_heads.c
        row = (
            await self._session.execute(
                select(h.seq, h.hash).where(h.tenant_id == tenant_id, h.account_id == account_id)
            )
        ).first()
        return (int(row.seq), str(row.hash)) if row else None

    async def state_at(self, tenant_id: str, account_id: str, at: datetime) -> dict[str, Any] | None:
        """The account's license as it was at `at` (the last license snapshot before it)."""
        c = t.license_history.c
        return await self._session.scalar(
            select(c.after)
            .where(
                c.tenant_id == tenant_id,
                c.account_id == account_id,
                c.at <= at,
                c.after.is_not(None),
                c.action.not_in(NOT_SNAPSHOTS),
            )
            .order_by(c.seq.desc())
            .limit(1)
        )
