"""Grant rows ↔ domain grants. Never commits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.adapters import tables as t
from tangible_entitlements.adapters.repositories.rows import from_row
from tangible_entitlements.domain.commands import GrantBenefit
from tangible_entitlements.domain.entitlement import Grant
from tangible_entitlements.service_layer.reads import GrantRecord

AccountKey = tuple[str, str]


def grant_from_row(r: RowMapping) -> Grant:
    return Grant(
        r["id"], r["feature_key"], r["kind"], r["value"], r["source"], r["starts_at"], r["expires_at"]
    )


class GrantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_many(self, grants: Sequence[GrantBenefit]) -> list[str]:
        """Insert grants (ids are deterministic per source); returns the ids that are new."""
        if not grants:
            return []
        rows = await self._session.execute(
            text(
                """
                INSERT INTO grants (id, tenant_id, account_id, feature_key, kind, value, source,
                                    starts_at, expires_at, actor, reason)
                SELECT g.id, g.tenant_id, g.account_id, g.feature_key, g.kind, g.value::jsonb, g.source,
                       g.starts_at, g.expires_at, g.actor, g.reason
                FROM unnest(CAST(:ids AS text[]), CAST(:tenants AS text[]), CAST(:accounts AS text[]),
                            CAST(:features AS text[]), CAST(:kinds AS text[]), CAST(:values AS text[]),
                            CAST(:sources AS text[]), CAST(:starts AS timestamptz[]),
                            CAST(:expires AS timestamptz[]), CAST(:actors AS text[]), CAST(:reasons AS text[]))
                    AS g(id, tenant_id, account_id, feature_key, kind, value, source, starts_at, expires_at,
                         actor, reason)
                ON CONFLICT (id) DO NOTHING
                RETURNING id
                """
            ),
            {
                "ids": [g.grant_id for g in grants],
                "tenants": [g.tenant_id for g in grants],
                "accounts": [g.account_id for g in grants],
                "features": [g.feature_key for g in grants],
                "kinds": [g.kind for g in grants],
                "values": [_json(g.value) for g in grants],
                "sources": [g.source for g in grants],
                "starts": [g.starts_at for g in grants],
                "expires": [g.expires_at for g in grants],
                "actors": [g.actor for g in grants],
                "reasons": [g.reason for g in grants],
            },
        )
        return [r[0] for r in rows]

    async def get(self, tenant_id: str, grant_id: str) -> GrantRecord | None:
        query = select(t.grants).where(t.grants.c.tenant_id == tenant_id, t.grants.c.id == grant_id)
        row = (await self._session.execute(query.with_for_update())).mappings().first()
        return from_row(GrantRecord, row) if row else None

    async def end(self, tenant_id: str, grant_id: str, at: datetime) -> None:
        await self._session.execute(
            update(t.grants)
            .where(t.grants.c.tenant_id == tenant_id, t.grants.c.id == grant_id)
            .values(expires_at=at)
        )

    async def for_accounts(self, keys: Sequence[AccountKey]) -> dict[AccountKey, list[Grant]]:
        if not keys:
            return {}
        rows = await self._session.execute(
            text(
                """
                SELECT g.*
                FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[])) AS k(tenant_id, account_id)
                JOIN grants g ON g.tenant_id = k.tenant_id AND g.account_id = k.account_id
                ORDER BY g.starts_at, g.id
                """
            ),
            {"tenants": [k[0] for k in keys], "accounts": [k[1] for k in keys]},
        )
        result: dict[AccountKey, list[Grant]] = {k: [] for k in keys}
        for r in rows.mappings():
            result.setdefault((r["tenant_id"], r["account_id"]), []).append(grant_from_row(r))
        return result

    async def unexpired(self, since: datetime) -> dict[AccountKey, list[Grant]]:
        """Grants still in force after `since` (a read replica's cold start)."""
        rows = await self._session.execute(
            select(t.grants)
            .where((t.grants.c.expires_at.is_(None)) | (t.grants.c.expires_at > since))
            .order_by(t.grants.c.starts_at, t.grants.c.id)
        )
        result: dict[AccountKey, list[Grant]] = {}
        for r in rows.mappings():
            result.setdefault((r["tenant_id"], r["account_id"]), []).append(grant_from_row(r))
        return result

    async def page_for_account(
        self, tenant_id: str, account_id: str, *, limit: int, offset: int
    ) -> tuple[list[GrantRecord], int]:
        c = t.grants.c
        where = (c.tenant_id == tenant_id, c.account_id == account_id)
        rows = await self._session.execute(
            select(t.grants).where(*where).order_by(c.created_at.desc(), c.id).limit(limit).offset(offset)
        )
        total = await self._session.scalar(select(func.count()).select_from(t.grants).where(*where))
        return [from_row(GrantRecord, r) for r in rows.mappings()], int(total or 0)

    async def claim_expired(self, now: datetime, limit: int) -> list[GrantRecord]:
        """Grants past expiry not yet announced, marked announced here (once, across replicas)."""
        rows = await self._session.execute(
            text(
                """
                UPDATE grants g SET expiry_announced_at = :now
                FROM (SELECT id FROM grants
                      WHERE expiry_announced_at IS NULL AND expires_at IS NOT NULL AND expires_at <= :now
                      ORDER BY expires_at LIMIT :n FOR UPDATE SKIP LOCKED) due
                WHERE g.id = due.id
                RETURNING g.*
                """
            ),
            {"now": now, "n": limit},
        )
        return [from_row(GrantRecord, r) for r in rows.mappings()]


def _json(value: object) -> str:
    return json.dumps(value)
