"""Notifications: inserted once per (event, rule, recipient, channel), set-based."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_notifications.adapters import tables as t
from tangible_notifications.domain.model import Notification, Template
from tangible_notifications.domain.records import Composed, StoredNotification
from tangible_runtime.telemetry import current_trace_headers

# Rows travel as one JSON document, not as an array per column: the driver checks every
# element of an array parameter in Python (21 columns x 1,000 rows a batch), which cost more
# than the insert itself; PostgreSQL reads the document in C.
_INSERT = text(
    """
    INSERT INTO notifications
        (id, tenant_id, account_id, rule_id, source_event_id, event_type, channel, channel_id, recipient,
         user_id, title, body, html, category, priority, status, context, template, digest_key, digest_due_at,
         created_at)
    SELECT id, tenant_id, account_id, rule_id, source_event_id, event_type, channel, channel_id, recipient,
           user_id, title, body, html, category, priority, status, CAST(context AS jsonb),
           CAST(template AS jsonb), digest_key, digest_due_at, created_at
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        id text, tenant_id text, account_id text, rule_id text, source_event_id text, event_type text,
        channel text, channel_id text, recipient text, user_id text, title text, body text, html text,
        category text, priority text, status text, context text, template text, digest_key text,
        digest_due_at timestamptz, created_at timestamptz)
    ON CONFLICT (tenant_id, source_event_id, rule_id, recipient, channel) DO NOTHING
    RETURNING id
    """
)


def _row(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "tenant_id": n.tenant_id,
        "account_id": n.account_id,
        "rule_id": n.rule_id,
        "source_event_id": n.source_event_id,
        "event_type": n.event_type,
        "channel": n.channel.value,
        "channel_id": n.recipient.endpoint_id,
        "recipient": n.recipient.key,
        "user_id": n.recipient.user_id,
        "title": n.title,
        "body": n.body,
        "html": n.html,
        "category": n.category,
        "priority": n.priority.value,
        "status": n.stored_status.value,
        "context": _json(_traced(n.context)),
        "template": _json(asdict(n.template)) if n.template else None,
        "digest_key": n.digest_key,
        "digest_due_at": n.digest_due_at,
        "created_at": n.created_at,
    }


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
        rows = await self._session.execute(
            _INSERT, {"rows": orjson.dumps([_row(n) for n in notifications]).decode()}
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
