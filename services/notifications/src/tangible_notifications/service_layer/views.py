"""Read side: the delivery log with every attempt, the inbox with its unread count."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import RowMapping

from tangible_notifications.domain.errors import DeliveryNotFound
from tangible_notifications.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class LoggedDelivery:
    delivery: RowMapping
    attempts: list[RowMapping]


async def delivery_log(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    status: str | None,
    account_id: str | None,
    channel: str | None,
    limit: int,
    offset: int,
) -> list[LoggedDelivery]:
    async with uow:
        rows = await uow.deliveries.page(
            tenant_id, status=status, account_id=account_id, channel=channel, limit=limit, offset=offset
        )
        attempts = await uow.deliveries.attempts_of([r["id"] for r in rows])
    return [LoggedDelivery(r, attempts.get(r["id"], [])) for r in rows]


async def one_delivery(uow: UnitOfWork, *, tenant_id: str, delivery_id: str) -> LoggedDelivery:
    async with uow:
        row = await uow.deliveries.get(tenant_id, delivery_id)
        if row is None:
            raise DeliveryNotFound(f"delivery '{delivery_id}' does not exist")
        attempts = await uow.deliveries.attempts_of([delivery_id])
    return LoggedDelivery(row, attempts.get(delivery_id, []))


async def inbox_page(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    account_id: str,
    user_id: str | None,
    unread_only: bool,
    limit: int,
    offset: int,
) -> tuple[list[RowMapping], int]:
    async with uow:
        rows = await uow.inbox_items.page(
            tenant_id, account_id, user_id=user_id, unread_only=unread_only, limit=limit, offset=offset
        )
        unread = await uow.inbox_items.unread_count(tenant_id, account_id, user_id)
    return rows, unread


async def unread_count(uow: UnitOfWork, *, tenant_id: str, account_id: str, user_id: str | None) -> int:
    async with uow:
        return await uow.inbox_items.unread_count(tenant_id, account_id, user_id)
