"""Notifications: inserted once per (event, rule, recipient, channel), set-based."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_notifications.adapters import tables as t
from tangible_notifications.domain.model import Notification, Template
from tangible_notifications.domain.records import Composed, StoredNotification
from tangible_runtime.telemetry import current_trace_headers

_INSERT = text(
    """
    INSERT INTO notifications
        (id, tenant_id, account_id, rule_id, source_event_id, event_type, channel, channel_id, recipient,
         user_id, title, body, html, category, priority, status, context, template, digest_key, digest_due_at,
         created_at)
    SELECT * FROM unnest(
        CAST(:ids AS text[]), CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:rules AS text[]),
        CAST(:events AS text[]), CAST(:types AS text[]), CAST(:channels AS text[]), CAST(:channel_ids AS text[]),
        CAST(:recipients AS text[]), CAST(:users AS text[]), CAST(:titles AS text[]), CAST(:bodies AS text[]),
        CAST(:htmls AS text[]), CAST(:categories AS text[]), CAST(:priorities AS text[]), CAST(:statuses AS text[]),
        CAST(:contexts AS jsonb[]), CAST(:templates AS jsonb[]), CAST(:digest_keys AS text[]),
        CAST(:digest_dues AS timestamptz[]), CAST(:created AS timestamptz[]))
    ON CONFLICT (tenant_id, source_event_id, rule_id, recipient, channel) DO NOTHING
    RETURNING id
    """
)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str)


def _traced(context: dict[str, Any] | None) -> dict[str, Any] | None:
    """The facts plus the W3C trace context of the work that made the notification, so that
    its delivery, later and in another process, continues the source event's trace."""
    trace = {key: value.decode() for key, value in current_trace_headers()}
    return {**(context or {}), "trace": trace} if trace else context


def _stored(row: RowMapping) -> StoredNotification:
    spec = row["template"]
    template = Template(spec.get("title", ""), spec.get("body", ""), spec.get("html")) if spec else None
    return StoredNotification(
        id=row["id"],
        tenant_id=row["tenant_id"],
        account_id=row["account_id"],
        source_event_id=row["source_event_id"],
        event_type=row["event_type"],
        channel=row["channel"],
        channel_id=row["channel_id"],
        recipient=row["recipient"],
        user_id=row["user_id"],
        title=row["title"],
        body=row["body"],
        html=row["html"],
        category=row["category"],
        priority=row["priority"],
        status=row["status"],
        created_at=row["created_at"],
        context=row["context"] or {},
        template=template,
        digest_key=row["digest_key"],
    )


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, notifications: Sequence[Notification]) -> set[str]:
        """Insert; returns the ids actually inserted (a replayed event inserts none)."""
        if not notifications:
            return set()
        ns = notifications
        rows = await self._session.execute(
            _INSERT,
            {
                "ids": [n.id for n in ns],
                "tenants": [n.tenant_id for n in ns],
                "accounts": [n.account_id for n in ns],
                "rules": [n.rule_id for n in ns],
                "events": [n.source_event_id for n in ns],
                "types": [n.event_type for n in ns],
                "channels": [n.channel.value for n in ns],
                "channel_ids": [n.recipient.endpoint_id for n in ns],
                "recipients": [n.recipient.key for n in ns],
                "users": [n.recipient.user_id for n in ns],
                "titles": [n.title for n in ns],
                "bodies": [n.body for n in ns],
                "htmls": [n.html for n in ns],
                "categories": [n.category for n in ns],
                "priorities": [n.priority.value for n in ns],
                "statuses": [n.stored_status.value for n in ns],
                "contexts": [_json(_traced(n.context)) for n in ns],
                "templates": [_json(asdict(n.template)) if n.template else None for n in ns],
                "digest_keys": [n.digest_key for n in ns],
                "digest_dues": [n.digest_due_at for n in ns],
                "created": [n.created_at for n in ns],
            },
        )
        return {r.id for r in rows}

    async def set_status(self, ids: Sequence[str], status: str) -> None:
        if ids:
            await self._session.execute(
                update(t.notifications).where(t.notifications.c.id.in_(list(ids))).values(status=status)
            )

    async def by_ids(self, ids: Sequence[str]) -> dict[str, StoredNotification]:
        if not ids:
            return {}
        query = select(t.notifications).where(t.notifications.c.id.in_(list(set(ids))))
        return {r["id"]: _stored(r) for r in (await self._session.execute(query)).mappings()}

    async def claim_composing(self, limit: int) -> list[StoredNotification]:
        """Notifications waiting for their impact note; locked so one replica composes each."""
        query = (
            select(t.notifications)
            .where(t.notifications.c.status == "composing")
            .order_by(t.notifications.c.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_stored(r) for r in (await self._session.execute(query)).mappings()]

    async def composed(self, texts: Sequence[Composed]) -> None:
        if texts:
            await self._session.execute(
                text(
                    "UPDATE notifications SET title = :title, body = :body, html = :html, status = :status WHERE id = :id"
                ),
                [
                    {"id": c.id, "title": c.title, "body": c.body, "html": c.html, "status": c.status}
                    for c in texts
                ],
            )

    async def held_due(self, now: datetime, limit: int) -> list[StoredNotification]:
        """Held items of the digests due now, whole groups at a time (the caller holds the lock)."""
        query = text(
            """
            WITH groups AS (
                SELECT DISTINCT tenant_id, account_id, recipient, digest_key FROM notifications
                WHERE status = 'held' AND digest_due_at <= :now
                LIMIT :limit
            )
            SELECT n.* FROM notifications n
            JOIN groups g USING (tenant_id, account_id, recipient, digest_key)
            WHERE n.status = 'held'
            ORDER BY n.tenant_id, n.account_id, n.recipient, n.digest_key, n.created_at
            """
        )
        rows = (await self._session.execute(query, {"now": now, "limit": limit})).mappings()
        return [_stored(r) for r in rows]

    async def mark_digested(self, pairs: Sequence[tuple[str, str]]) -> None:
        """(item id, digest notification id)."""
        if pairs:
            await self._session.execute(
                text(
                    """
                    UPDATE notifications n SET status = 'digested', digest_id = u.digest_id
                    FROM unnest(CAST(:ids AS text[]), CAST(:digests AS text[])) AS u(id, digest_id)
                    WHERE n.id = u.id
                    """
                ),
                {"ids": [p[0] for p in pairs], "digests": [p[1] for p in pairs]},
            )
