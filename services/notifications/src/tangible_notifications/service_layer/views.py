"""Read side: the delivery log with every attempt, the inbox with its unread count."""

from __future__ import annotations

from dataclasses import replace

from tangible_notifications.domain.errors import DeliveryNotFound
from tangible_notifications.domain.records import AttemptRecord, DeliveryRecord, InboxItem
from tangible_notifications.service_layer.ports import UnitOfWork

UNFINISHED = ("pending", "scheduled")


def _logged(delivery: DeliveryRecord, attempts: list[AttemptRecord]) -> DeliveryRecord:
    """With its attempts; a finished delivery shows no next attempt (a lease may linger)."""
    next_at = delivery.next_attempt_at if delivery.status in UNFINISHED else None
    return replace(delivery, next_attempt_at=next_at, attempt_log=tuple(attempts))


async def delivery_log(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    status: str | None,
    account_id: str | None,
    channel: str | None,
    limit: int,
    offset: int,
) -> list[DeliveryRecord]:
    async with uow:
        rows = await uow.deliveries.page(
            tenant_id, status=status, account_id=account_id, channel=channel, limit=limit, offset=offset
        )
        attempts = await uow.deliveries.attempts_of([r.id for r in rows])
    return [_logged(r, attempts.get(r.id, [])) for r in rows]


async def one_delivery(uow: UnitOfWork, *, tenant_id: str, delivery_id: str) -> DeliveryRecord:
    async with uow:
        row = await uow.deliveries.get(tenant_id, delivery_id)
        if row is None:
            raise DeliveryNotFound(f"delivery '{delivery_id}' does not exist")
        attempts = await uow.deliveries.attempts_of([delivery_id])
    return _logged(row, attempts.get(delivery_id, []))


async def inbox_page(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    account_id: str,
    user_id: str | None,
    unread_only: bool,
    limit: int,
    offset: int,
) -> tuple[list[InboxItem], int]:
    async with uow:
        items = await uow.inbox_items.page(
            tenant_id, account_id, user_id=user_id, unread_only=unread_only, limit=limit, offset=offset
        )
        unread = await uow.inbox_items.unread_count(tenant_id, account_id, user_id)
    return items, unread


async def unread_count(uow: UnitOfWork, *, tenant_id: str, account_id: str, user_id: str | None) -> int:
    async with uow:
        return await uow.inbox_items.unread_count(tenant_id, account_id, user_id)
