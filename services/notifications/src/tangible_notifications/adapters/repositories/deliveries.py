"""Deliveries and their attempts: claimed with SKIP LOCKED, fenced by attempt number."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson
from sqlalchemy import select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_notifications.adapters import tables as t
from tangible_notifications.domain.model import Delivery
from tangible_notifications.domain.records import (
    AttemptRecord,
    DeliveryRecord,
    FinishedAttempt,
    StoppedDelivery,
)

# Rows as one JSON document (see `notifications._INSERT` for why).
_INSERT = text(
    """
    INSERT INTO deliveries
        (id, tenant_id, notification_id, account_id, channel, channel_id, target, status, attempts,
         next_attempt_at, delivered_at, created_at)
    SELECT id, tenant_id, notification_id, account_id, channel, channel_id, target, status, attempts,
           next_attempt_at, delivered_at, created_at
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        id text, tenant_id text, notification_id text, account_id text, channel text, channel_id text,
        target text, status text, attempts int, next_attempt_at timestamptz, delivered_at timestamptz,
        created_at timestamptz)
    ON CONFLICT (id) DO NOTHING
    """
)

_LOG_ATTEMPTS = text(
    """
    INSERT INTO delivery_attempts (delivery_id, number, attempted_at, outcome, status_code, error, duration_ms)
    SELECT delivery_id, number, attempted_at, outcome, status_code, error, duration_ms
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        delivery_id text, number int, attempted_at timestamptz, outcome text, status_code int, error text,
        duration_ms int)
    ON CONFLICT (delivery_id, number) DO NOTHING
    """
)

_CLAIM = text(
    """
    WITH due AS (
        SELECT id FROM deliveries
        WHERE status = 'pending' AND next_attempt_at <= :now
        ORDER BY next_attempt_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE deliveries d
    SET attempts = d.attempts + 1, next_attempt_at = :lease_until,
        series_started_at = COALESCE(d.series_started_at, :now)
    FROM due WHERE d.id = due.id
    RETURNING d.*
    """
)

_FINISH = text(
    """
    UPDATE deliveries d SET status = u.status, next_attempt_at = u.next_attempt_at, last_error = u.last_error,
        last_status_code = u.status_code, delivered_at = COALESCE(u.delivered_at, d.delivered_at)
    FROM unnest(CAST(:ids AS text[]), CAST(:attempts AS int[]), CAST(:statuses AS text[]),
                CAST(:next AS timestamptz[]), CAST(:errors AS text[]), CAST(:codes AS int[]),
                CAST(:delivered AS timestamptz[]))
         AS u(id, attempt, status, next_attempt_at, last_error, status_code, delivered_at)
    WHERE d.id = u.id AND d.attempts = u.attempt AND d.status = 'pending'
    RETURNING d.id
    """
)


def _record(row: RowMapping) -> DeliveryRecord:
    return DeliveryRecord(
        id=row["id"],
        tenant_id=row["tenant_id"],
        notification_id=row["notification_id"],
        account_id=row["account_id"],
        channel=row["channel"],
        channel_id=row["channel_id"],
        target=row["target"],
        status=row["status"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        series_started_at=row["series_started_at"],
        last_error=row["last_error"],
        last_status_code=row["last_status_code"],
        delivered_at=row["delivered_at"],
    )


def _attempt(row: RowMapping) -> AttemptRecord:
    return AttemptRecord(
        delivery_id=row["delivery_id"],
        number=row["number"],
        attempted_at=row["attempted_at"],
        outcome=row["outcome"],
        status_code=row["status_code"],
        error=row["error"],
        duration_ms=row["duration_ms"],
    )


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        rows = [
            {
                "id": d.id,
                "tenant_id": d.tenant_id,
                "notification_id": d.notification_id,
                "account_id": d.account_id,
                "channel": d.channel.value,
                "channel_id": d.channel_id,
                "target": d.target,
                "status": d.status.value,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at,
                "delivered_at": d.delivered_at,
                "created_at": d.created_at,
            }
            for d in deliveries
        ]
        await self._session.execute(_INSERT, {"rows": orjson.dumps(rows).decode()})

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[DeliveryRecord]:
        """Due deliveries, leased: a crashed sender's lease runs out and another replica retries."""
        result = await self._session.execute(_CLAIM, {"now": now, "lease_until": lease_until, "limit": limit})
        return [_record(r) for r in result.mappings()]

    async def finish(self, rows: Sequence[FinishedAttempt]) -> set[str]:
        """Record outcomes; returns the ids recorded. `attempt` fences out a sender whose
        lease ran out and was taken over (its outcome is stale)."""
        if not rows:
            return set()
        result = await self._session.execute(
            _FINISH,
            {
                "ids": [r.id for r in rows],
                "attempts": [r.attempt for r in rows],
                "statuses": [r.status for r in rows],
                "next": [r.next_attempt_at for r in rows],
                "errors": [r.last_error for r in rows],
                "codes": [r.status_code for r in rows],
                "delivered": [r.delivered_at for r in rows],
            },
        )
        return {row.id for row in result}

    async def log_attempts(self, rows: Sequence[AttemptRecord]) -> None:
        if rows:
            # orjson writes a dataclass as an object of its fields: the recordset's columns
            await self._session.execute(_LOG_ATTEMPTS, {"rows": orjson.dumps(list(rows)).decode()})

    async def release_scheduled(self, notification_ids: Sequence[str], now: datetime) -> None:
        """Composed notifications: their deliveries become due (not before a quiet-hours end)."""
        if notification_ids:
            await self._session.execute(
                text(
                    """
                    UPDATE deliveries SET status = 'pending', next_attempt_at = GREATEST(COALESCE(next_attempt_at, :now), :now)
                    WHERE notification_id = ANY(:ids) AND status = 'scheduled'
                    """
                ),
                {"ids": list(notification_ids), "now": now},
            )

    async def complete_inbox(self, ids: Sequence[str], now: datetime) -> None:
        if ids:
            await self._session.execute(
                update(t.deliveries)
                .where(t.deliveries.c.id.in_(list(ids)))
                .values(status="succeeded", attempts=1, delivered_at=now, next_attempt_at=None)
            )

    async def fail_pending_for_channel(self, channel_id: str, reason: str) -> list[StoppedDelivery]:
        result = await self._session.execute(
            text(
                """
                UPDATE deliveries d SET status = 'failed', last_error = :reason, next_attempt_at = NULL
                FROM notifications n
                WHERE n.id = d.notification_id AND d.channel_id = :channel AND d.status IN ('pending', 'scheduled')
                RETURNING d.*, n.source_event_id
                """
            ),
            {"channel": channel_id, "reason": reason},
        )
        return [StoppedDelivery(_record(r), r["source_event_id"]) for r in result.mappings()]

    async def get(
        self, tenant_id: str, delivery_id: str, *, for_update: bool = False
    ) -> DeliveryRecord | None:
        query = select(t.deliveries).where(
            t.deliveries.c.tenant_id == tenant_id, t.deliveries.c.id == delivery_id
        )
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).mappings().first()
        return _record(row) if row else None

    async def resend(self, delivery_id: str, now: datetime) -> None:
        """A new series of attempts (a new retry window), logged after the earlier ones."""
        await self._session.execute(
            update(t.deliveries)
            .where(t.deliveries.c.id == delivery_id)
            .values(status="pending", next_attempt_at=now, series_started_at=now, last_error=None)
        )

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
        d = t.deliveries.c
        query = select(t.deliveries).where(d.tenant_id == tenant_id)
        if status is not None:
            query = query.where(d.status == status)
        if account_id is not None:
            query = query.where(d.account_id == account_id)
        if channel is not None:
            query = query.where(d.channel == channel)
        query = query.order_by(d.created_at.desc(), d.id).limit(limit).offset(offset)
        return [_record(r) for r in (await self._session.execute(query)).mappings()]

    async def attempts_of(self, delivery_ids: Sequence[str]) -> dict[str, list[AttemptRecord]]:
        if not delivery_ids:
            return {}
        a = t.delivery_attempts.c
        query = (
            select(t.delivery_attempts)
            .where(a.delivery_id.in_(list(delivery_ids)))
            .order_by(a.delivery_id, a.number)
        )
        result: dict[str, list[AttemptRecord]] = {}
        for row in (await self._session.execute(query)).mappings():
            result.setdefault(row["delivery_id"], []).append(_attempt(row))
        return result
