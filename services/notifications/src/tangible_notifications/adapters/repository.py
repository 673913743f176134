"""Repositories: rows ↔ domain objects. They never commit (the unit of work does)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import insert, select, text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_notifications.adapters import tables as t
from tangible_notifications.domain.model import Channel, Notification, NotificationRule, Template


def _rule(row: RowMapping) -> NotificationRule:
    return NotificationRule(
        id=row["id"],
        name=row["name"],
        event_types=tuple(row["event_types"]),
        channels=tuple(Channel(c) for c in row["channels"]),
        template=Template(row["title_template"], row["body_template"]),
        priority=row["priority"],
        enabled=row["enabled"],
    )


class RuleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, tenant_id: str, rule: NotificationRule) -> None:
        await self._session.execute(
            insert(t.rules).values(
                id=rule.id,
                tenant_id=tenant_id,
                name=rule.name,
                event_types=list(rule.event_types),
                channels=[c.value for c in rule.channels],
                title_template=rule.template.title,
                body_template=rule.template.body,
                priority=rule.priority,
                enabled=rule.enabled,
            )
        )

    async def for_tenants(self, tenant_ids: Iterable[str]) -> dict[str, list[NotificationRule]]:
        rows = (
            await self._session.execute(
                select(t.rules).where(t.rules.c.tenant_id.in_(set(tenant_ids)), t.rules.c.enabled.is_(True))
            )
        ).mappings()
        result: dict[str, list[NotificationRule]] = {}
        for row in rows:
            result.setdefault(row["tenant_id"], []).append(_rule(row))
        return result


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, notifications: Sequence[Notification]) -> set[str]:
        """Insert; returns ids actually inserted: one per (event, rule, recipient, channel)."""
        if not notifications:
            return set()
        rows = await self._session.execute(
            text(
                """
                INSERT INTO notifications
                    (id, tenant_id, account_id, rule_id, source_event_id, channel, recipient, title, body, status)
                SELECT *, 'pending' FROM unnest(
                    CAST(:ids AS text[]), CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:rules AS text[]),
                    CAST(:events AS text[]), CAST(:channels AS text[]), CAST(:recipients AS text[]),
                    CAST(:titles AS text[]), CAST(:bodies AS text[]))
                ON CONFLICT (tenant_id, source_event_id, rule_id, recipient, channel) DO NOTHING
                RETURNING id
                """
            ),
            {
                "ids": [n.id for n in notifications],
                "tenants": [n.tenant_id for n in notifications],
                "accounts": [n.account_id for n in notifications],
                "rules": [n.rule_id for n in notifications],
                "events": [n.source_event_id for n in notifications],
                "channels": [n.channel.value for n in notifications],
                "recipients": [n.recipient for n in notifications],
                "titles": [n.title for n in notifications],
                "bodies": [n.body for n in notifications],
            },
        )
        return {r.id for r in rows}

    async def mark_delivered(self, ids: Sequence[str]) -> None:
        if ids:
            await self._session.execute(
                text("UPDATE notifications SET status = 'delivered' WHERE id = ANY(:ids)"), {"ids": list(ids)}
            )


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, notifications: Sequence[Notification]) -> None:
        if notifications:
            await self._session.execute(
                insert(t.inbox_items),
                [
                    {
                        "id": n.id,
                        "tenant_id": n.tenant_id,
                        "account_id": n.account_id,
                        "notification_id": n.id,
                        "title": n.title,
                        "body": n.body,
                    }
                    for n in notifications
                ],
            )

    async def list(
        self, tenant_id: str, account_id: str, *, unread_only: bool, limit: int, offset: int
    ) -> list[RowMapping]:
        query = (
            select(t.inbox_items)
            .where(t.inbox_items.c.tenant_id == tenant_id, t.inbox_items.c.account_id == account_id)
            .order_by(t.inbox_items.c.created_at.desc(), t.inbox_items.c.id)
            .limit(limit)
            .offset(offset)
        )
        if unread_only:
            query = query.where(t.inbox_items.c.read_at.is_(None))
        return list((await self._session.execute(query)).mappings())
