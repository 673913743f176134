"""Fake repositories of what notifications makes: notifications, deliveries and their
attempts, inbox items. They keep the SQL adapters' rules: one notification per key,
leases fenced by attempt number, idempotent inserts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from services.notifications.tests.unit.fake_store import Repository
from tangible_notifications.domain.model import Delivery, Notification
from tangible_notifications.domain.records import (
    AttemptRecord,
    Composed,
    DeliveryRecord,
    FinishedAttempt,
    InboxItem,
    StoppedDelivery,
    StoredNotification,
)
from tangible_notifications.service_layer.ports import ACCOUNT_WIDE


def _stored(n: Notification) -> StoredNotification:
    return StoredNotification(
        id=n.id,
        tenant_id=n.tenant_id,
        account_id=n.account_id,
        source_event_id=n.source_event_id,
        event_type=n.event_type,
        channel=n.channel.value,
        channel_id=n.recipient.endpoint_id,
        recipient=n.recipient.key,
        user_id=n.recipient.user_id,
        title=n.title,
        body=n.body,
        html=n.html,
        category=n.category,
        priority=n.priority.value,
        status=n.stored_status.value,
        created_at=n.created_at,
        context=n.context or {},
        template=n.template,
        digest_key=n.digest_key,
    )


class FakeNotifications(Repository):
    async def claim(self, notifications: Sequence[Notification]) -> set[str]:
        created: set[str] = set()
        for n in notifications:
            key = (n.tenant_id, n.source_event_id, n.rule_id, n.recipient.key, n.channel.value)
            if key not in self.s.notification_keys:
                self.s.notification_keys.add(key)
                self.s.notifications[n.id] = _stored(n)
                self.s.digest_due[n.id] = n.digest_due_at
                created.add(n.id)
        return created

    async def set_status(self, ids: Sequence[str], status: str) -> None:
        for i in ids:
            self.s.notifications[i] = replace(self.s.notifications[i], status=status)

    async def by_ids(self, ids: Sequence[str]) -> dict[str, StoredNotification]:
        return {i: self.s.notifications[i] for i in ids if i in self.s.notifications}

    async def claim_composing(self, limit: int) -> list[StoredNotification]:
        waiting = [n for n in self.s.notifications.values() if n.status == "composing"]
        return sorted(waiting, key=lambda n: n.created_at)[:limit]

    async def composed(self, texts: Sequence[Composed]) -> None:
        for c in texts:
            n = self.s.notifications[c.id]
            self.s.notifications[c.id] = replace(n, title=c.title, body=c.body, html=c.html, status=c.status)

    async def held_due(self, now: datetime, limit: int) -> list[StoredNotification]:
        def group(n: StoredNotification) -> tuple[str, str, str, str]:
            return (n.tenant_id, n.account_id, n.recipient, n.digest_key or "")

        held = [n for n in self.s.notifications.values() if n.status == "held"]
        due = sorted({group(n) for n in held if (self.s.digest_due[n.id] or now) <= now})[:limit]
        return sorted((n for n in held if group(n) in due), key=lambda n: (*group(n), n.created_at))

    async def mark_digested(self, pairs: Sequence[tuple[str, str]]) -> None:
        await self.set_status([item for item, _ in pairs], "digested")


class FakeDeliveries(Repository):
    async def add(self, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            self.s.deliveries.setdefault(
                d.id,
                DeliveryRecord(
                    id=d.id,
                    tenant_id=d.tenant_id,
                    notification_id=d.notification_id,
                    account_id=d.account_id,
                    channel=d.channel.value,
                    channel_id=d.channel_id,
                    target=d.target,
                    status=d.status.value,
                    attempts=d.attempts,
                    created_at=d.created_at,
                    next_attempt_at=d.next_attempt_at,
                    delivered_at=d.delivered_at,
                ),
            )

    def _set(self, delivery_id: str, **values: Any) -> DeliveryRecord:
        self.s.deliveries[delivery_id] = replace(self.s.deliveries[delivery_id], **values)
        return self.s.deliveries[delivery_id]

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[DeliveryRecord]:
        due = [
            d
            for d in self.s.deliveries.values()
            if d.status == "pending" and d.next_attempt_at and d.next_attempt_at <= now
        ]
        due = sorted(due, key=lambda d: d.next_attempt_at or now)[:limit]
        return [
            self._set(
                d.id,
                attempts=d.attempts + 1,
                next_attempt_at=lease_until,
                series_started_at=d.series_started_at or now,
            )
            for d in due
        ]

    async def finish(self, rows: Sequence[FinishedAttempt]) -> set[str]:
        recorded: set[str] = set()
        for r in rows:
            d = self.s.deliveries[r.id]
            if d.attempts == r.attempt and d.status == "pending":
                recorded.add(r.id)
                self._set(
                    r.id,
                    status=r.status,
                    next_attempt_at=r.next_attempt_at,
                    last_error=r.last_error,
                    last_status_code=r.status_code,
                    delivered_at=r.delivered_at or d.delivered_at,
                )
        return recorded

    async def log_attempts(self, rows: Sequence[AttemptRecord]) -> None:
        for r in rows:
            self.s.attempts.setdefault((r.delivery_id, r.number), r)

    async def release_scheduled(self, notification_ids: Sequence[str], now: datetime) -> None:
        for d in list(self.s.deliveries.values()):
            if d.notification_id in notification_ids and d.status == "scheduled":
                self._set(d.id, status="pending", next_attempt_at=max(d.next_attempt_at or now, now))

    async def complete_inbox(self, ids: Sequence[str], now: datetime) -> None:
        for i in ids:
            self._set(i, status="succeeded", attempts=1, delivered_at=now, next_attempt_at=None)

    async def fail_pending_for_channel(self, channel_id: str, reason: str) -> list[StoppedDelivery]:
        stopped = [
            d
            for d in self.s.deliveries.values()
            if d.channel_id == channel_id and d.status in ("pending", "scheduled")
        ]
        return [
            StoppedDelivery(
                self._set(d.id, status="failed", last_error=reason, next_attempt_at=None),
                self.s.notifications[d.notification_id].source_event_id,
            )
            for d in stopped
        ]

    async def get(
        self, tenant_id: str, delivery_id: str, *, for_update: bool = False
    ) -> DeliveryRecord | None:
        d = self.s.deliveries.get(delivery_id)
        return d if d and d.tenant_id == tenant_id else None

    async def resend(self, delivery_id: str, now: datetime) -> None:
        self._set(delivery_id, status="pending", next_attempt_at=now, series_started_at=now, last_error=None)

    async def page(
        self,
        tenant_id: str,
        *,
        status: str | None,
        account_id: str | None,
        channel: str | None,
        limit: int,
        offset: int,
    ) -> list[DeliveryRecord]:
        wanted = {"status": status, "account_id": account_id, "channel": channel}
        found = [
            d
            for d in self.s.deliveries.values()
            if d.tenant_id == tenant_id and all(v is None or getattr(d, k) == v for k, v in wanted.items())
        ]
        found.sort(key=lambda d: d.id)
        found.sort(key=lambda d: d.created_at, reverse=True)
        return found[offset : offset + limit]

    async def attempts_of(self, delivery_ids: Sequence[str]) -> dict[str, list[AttemptRecord]]:
        found: dict[str, list[AttemptRecord]] = defaultdict(list)
        for (delivery_id, _), attempt in sorted(self.s.attempts.items()):
            if delivery_id in delivery_ids:
                found[delivery_id].append(attempt)
        return dict(found)


class FakeInbox(Repository):
    def _scope(self, tenant_id: str, account_id: str, user_id: str | None) -> list[InboxItem]:
        return [
            i
            for i in self.s.inbox.values()
            if (i.tenant_id, i.account_id) == (tenant_id, account_id)
            and (
                user_id is None or i.user_id in (None, user_id)
                if user_id != ACCOUNT_WIDE
                else i.user_id is None
            )
        ]

    async def add(self, items: Sequence[InboxItem]) -> None:
        for item in items:
            self.s.inbox.setdefault(item.id, item)

    async def page(
        self,
        tenant_id: str,
        account_id: str,
        *,
        user_id: str | None,
        unread_only: bool,
        limit: int,
        offset: int,
    ) -> list[InboxItem]:
        items = [i for i in self._scope(tenant_id, account_id, user_id) if not (unread_only and i.read)]
        items.sort(key=lambda i: i.id)
        items.sort(key=lambda i: i.created_at, reverse=True)
        return items[offset : offset + limit]

    async def unread_count(self, tenant_id: str, account_id: str, user_id: str | None) -> int:
        return sum(1 for i in self._scope(tenant_id, account_id, user_id) if not i.read)

    async def mark(
        self,
        tenant_id: str,
        account_id: str,
        item_id: str,
        read_at: datetime | None,
        user_id: str | None = None,
    ) -> bool:
        item = self.s.inbox.get(item_id)
        if item is None or item not in self._scope(tenant_id, account_id, user_id):
            return False
        self.s.inbox[item_id] = replace(item, read_at=read_at)
        return True
