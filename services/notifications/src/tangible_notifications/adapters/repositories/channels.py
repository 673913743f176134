"""Channels (webhook endpoints, email senders) and their encrypted webhook secrets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_notifications.adapters import tables as t
from tangible_notifications.domain.model import Channel, Endpoint
from tangible_notifications.domain.records import StoredSecret


def endpoint_from_row(row: RowMapping) -> Endpoint:
    return Endpoint(
        id=row["id"],
        tenant_id=row["tenant_id"],
        kind=Channel(row["kind"]),
        name=row["name"],
        purpose=row["purpose"],
        url=row["url"],
        sender=row["sender"],
        recipients=tuple(row["recipients"] or ()),
        to_account_contacts=row["to_account_contacts"],
        enabled=row["enabled"],
        disabled_reason=row["disabled_reason"],
        failing_since=row["failing_since"],
    )


class ChannelRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, endpoint: Endpoint, created_at: datetime) -> None:
        await self._session.execute(
            insert(t.channels).values(
                id=endpoint.id,
                tenant_id=endpoint.tenant_id,
                kind=endpoint.kind.value,
                name=endpoint.name,
                purpose=endpoint.purpose,
                url=endpoint.url,
                sender=endpoint.sender,
                recipients=list(endpoint.recipients),
                to_account_contacts=endpoint.to_account_contacts,
                enabled=endpoint.enabled,
                created_at=created_at,
            )
        )

    async def get(self, tenant_id: str, channel_id: str, *, for_update: bool = False) -> Endpoint | None:
        query = select(t.channels).where(t.channels.c.tenant_id == tenant_id, t.channels.c.id == channel_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).mappings().first()
        return endpoint_from_row(row) if row else None

    async def page(self, tenant_id: str, *, limit: int, offset: int) -> list[Endpoint]:
        query = (
            select(t.channels)
            .where(t.channels.c.tenant_id == tenant_id)
            .order_by(t.channels.c.created_at, t.channels.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [endpoint_from_row(r) for r in (await self._session.execute(query)).mappings()]

    async def for_tenants(self, tenant_ids: Iterable[str]) -> dict[str, list[Endpoint]]:
        query = select(t.channels).where(
            t.channels.c.tenant_id.in_(set(tenant_ids)), t.channels.c.enabled.is_(True)
        )
        result: dict[str, list[Endpoint]] = {}
        for row in (await self._session.execute(query)).mappings():
            result.setdefault(row["tenant_id"], []).append(endpoint_from_row(row))
        return result

    async def by_ids(self, channel_ids: Iterable[str]) -> dict[str, Endpoint]:
        """Enabled or not: a delivery to a disabled endpoint must see that it is disabled."""
        query = select(t.channels).where(t.channels.c.id.in_(set(channel_ids)))
        return {r["id"]: endpoint_from_row(r) for r in (await self._session.execute(query)).mappings()}

    async def mark_failing(self, channel_id: str, now: datetime) -> datetime:
        """Start (or keep) the endpoint's failing streak; returns when it started."""
        result = await self._session.execute(
            update(t.channels)
            .where(t.channels.c.id == channel_id)
            .values(failing_since=func.coalesce(t.channels.c.failing_since, now))
            .returning(t.channels.c.failing_since)
        )
        since: datetime = result.scalar_one()
        return since

    async def update(self, tenant_id: str, channel_id: str, **values: object) -> None:
        await self._session.execute(
            update(t.channels)
            .where(t.channels.c.tenant_id == tenant_id, t.channels.c.id == channel_id)
            .values(**values)
        )

    async def update_by_id(self, channel_id: str, **values: object) -> None:
        await self._session.execute(update(t.channels).where(t.channels.c.id == channel_id).values(**values))

    async def add_secret(
        self, channel_id: str, secret_id: str, ciphertext: str, created_at: datetime
    ) -> None:
        await self._session.execute(
            insert(t.channel_secrets).values(
                id=secret_id, channel_id=channel_id, ciphertext=ciphertext, created_at=created_at
            )
        )

    async def expire_secrets(self, channel_id: str, expires_at: datetime) -> None:
        """Older secrets keep signing until `expires_at` (the rotation overlap)."""
        await self._session.execute(
            update(t.channel_secrets)
            .where(t.channel_secrets.c.channel_id == channel_id, t.channel_secrets.c.expires_at.is_(None))
            .values(expires_at=expires_at)
        )

    async def active_secrets(
        self, channel_ids: Iterable[str], now: datetime
    ) -> dict[str, list[StoredSecret]]:
        """Newest first: the current secret, then those still in their overlap."""
        query = (
            select(t.channel_secrets)
            .where(
                t.channel_secrets.c.channel_id.in_(set(channel_ids)),
                or_(t.channel_secrets.c.expires_at.is_(None), t.channel_secrets.c.expires_at > now),
            )
            .order_by(t.channel_secrets.c.created_at.desc())
        )
        result: dict[str, list[StoredSecret]] = {}
        for row in (await self._session.execute(query)).mappings():
            result.setdefault(row["channel_id"], []).append(
                StoredSecret(row["id"], row["ciphertext"], row["created_at"], row["expires_at"])
            )
        return result
