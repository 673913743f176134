"""Credential rows: the tenant's API keys (no secret is stored). Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.adapters import tables as t
from tangible_entitlements.adapters.repositories.rows import from_row
from tangible_entitlements.domain.credentials import Credential


def _credential(row: RowMapping) -> Credential:
    return from_row(Credential, row, scopes=tuple(row["scopes"]))


class CredentialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, credential: Credential) -> None:
        await self._session.execute(
            insert(t.credentials).values(
                id=credential.id,
                tenant_id=credential.tenant_id,
                name=credential.name,
                scopes=list(credential.scopes),
                created_at=credential.created_at,
                created_by=credential.created_by,
                expires_at=credential.expires_at,
            )
        )

    async def page(self, tenant_id: str, limit: int, offset: int) -> tuple[list[Credential], int]:
        c = t.credentials.c
        rows = await self._session.execute(
            select(t.credentials)
            .where(c.tenant_id == tenant_id)
            .order_by(c.created_at.desc(), c.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self._session.scalar(select(func.count()).where(c.tenant_id == tenant_id))
        return [_credential(row) for row in rows.mappings()], int(total or 0)

    async def revoke(self, tenant_id: str, credential_id: str, at: datetime, by: str) -> Credential | None:
        """Marks it revoked (once: a second revocation keeps the first's time and actor)."""
        c = t.credentials.c
        await self._session.execute(
            update(t.credentials)
            .where(c.tenant_id == tenant_id, c.id == credential_id, c.revoked_at.is_(None))
            .values(revoked_at=at, revoked_by=by)
        )
        row = (
            (
                await self._session.execute(
                    select(t.credentials).where(c.tenant_id == tenant_id, c.id == credential_id)
                )
            )
            .mappings()
            .first()
        )
        return _credential(row) if row is not None else None
