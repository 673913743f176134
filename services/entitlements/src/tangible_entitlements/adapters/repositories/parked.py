"""Parked usage: early events of accounts without a license, until one exists. Never commits.

`lock_accounts` takes a transaction-scoped advisory lock per account: the consumer takes it
before deciding an account has no license (and parking), license creation before adding the
license and taking what is parked, so an event is either parked before the license and
applied with it, or sees the license and is metered: never parked after it, never twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.adapters import tables as t
from tangible_entitlements.domain.metering import Usage
from tangible_entitlements.domain.parking import ParkedUsage

# ordered by key, so that two transactions locking several accounts cannot deadlock
_LOCK = text(
    "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(t || '/' || a, 0) AS k"
    " FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[])) AS x(t, a) ORDER BY k) AS keys"
)


def _parked(row: Any) -> ParkedUsage:
    usage = Usage(
        event_id=row.event_id,
        tenant_id=row.tenant_id,
        account_id=row.account_id,
        usage_type=row.usage_type,
        occurred_at=row.occurred_at,
        quantity=row.quantity,
        user_id=row.user_id,
        properties=row.properties,
    )
    headers = list(zip(row.header_names, [bytes(v) for v in row.header_values], strict=True))
    return ParkedUsage(
        usage, row.consumer, bytes(row.record_key), bytes(row.record_value), headers, row.parked_at
    )


def _order(parked: list[ParkedUsage]) -> list[ParkedUsage]:
    return sorted(parked, key=lambda p: (p.usage.occurred_at, p.usage.event_id))


class ParkedUsageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_accounts(self, accounts: Sequence[tuple[str, str]]) -> None:
        if accounts:
            await self._session.execute(
                _LOCK, {"tenants": [a[0] for a in accounts], "accounts": [a[1] for a in accounts]}
            )

    async def counts(self, tenant_ids: Iterable[str]) -> dict[str, int]:
        c = t.parked_usage.c
        rows = await self._session.execute(
            select(c.tenant_id, func.count())
            .where(c.tenant_id.in_(sorted(set(tenant_ids))))
            .group_by(c.tenant_id)
        )
        return {tenant: int(count) for tenant, count in rows}

    async def park(self, parked: Sequence[ParkedUsage]) -> None:
        if not parked:
            return
        rows = [
            {
                "tenant_id": p.usage.tenant_id,
                "event_id": p.usage.event_id,
                "account_id": p.usage.account_id,
                "usage_type": p.usage.usage_type,
                "occurred_at": p.usage.occurred_at,
                "quantity": p.usage.quantity,
                "user_id": p.usage.user_id,
                "properties": dict(p.usage.properties),
                "consumer": p.consumer,
                "record_key": p.key,
                "record_value": p.value,
                "header_names": [name for name, _ in p.headers],
                "header_values": [value for _, value in p.headers],
                "parked_at": p.parked_at,
            }
            for p in parked
        ]
        await self._session.execute(insert(t.parked_usage).on_conflict_do_nothing(), rows)

    async def take(self, accounts: Sequence[tuple[str, str]]) -> list[ParkedUsage]:
        """Removes and returns the parked events of these (tenant, account)s, in event-time
        order: one statement, however many accounts."""
        if not accounts:
            return []
        c = t.parked_usage.c
        rows = await self._session.execute(
            delete(t.parked_usage)
            .where(tuple_(c.tenant_id, c.account_id).in_([tuple(a) for a in accounts]))
            .returning(*t.parked_usage.c)
        )
        return _order([_parked(row) for row in rows])

    async def take_expired(self, before: datetime, limit: int) -> list[ParkedUsage]:
        """Removes and returns up to `limit` events older than `before` (skipping locked rows,
        so that replicas share the work)."""
        c = t.parked_usage.c
        due = (
            select(c.tenant_id, c.event_id)
            .where(c.occurred_at < before)
            .order_by(c.occurred_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self._session.execute(
            delete(t.parked_usage)
            .where(func.row(c.tenant_id, c.event_id).in_(due))
            .returning(*t.parked_usage.c)
        )
        return _order([_parked(row) for row in rows])

    async def page(
        self, tenant_id: str, account_id: str | None, limit: int, offset: int
    ) -> tuple[list[ParkedUsage], int]:
        c = t.parked_usage.c
        where = [c.tenant_id == tenant_id] + ([c.account_id == account_id] if account_id else [])
        rows = await self._session.execute(
            select(t.parked_usage)
            .where(*where)
            .order_by(c.occurred_at, c.event_id)
            .limit(limit)
            .offset(offset)
        )
        total = await self._session.scalar(select(func.count()).select_from(t.parked_usage).where(*where))
        return [_parked(row) for row in rows], int(total or 0)
