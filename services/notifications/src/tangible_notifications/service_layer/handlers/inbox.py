"""The reader's own state: inbox items read or unread, preferences."""

from __future__ import annotations

from tangible_notifications.domain import commands
from tangible_notifications.domain.errors import InboxItemNotFound
from tangible_notifications.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock


async def put_preference(command: commands.PutPreference, *, uow: UnitOfWork) -> None:
    async with uow:
        await uow.preferences.put(command.tenant_id, command.preference)
        await uow.commit()


async def mark_inbox_item(command: commands.MarkInboxItem, *, uow: UnitOfWork, clock: Clock) -> bool:
    async with uow:
        found = await uow.inbox_items.mark(
            command.tenant_id,
            command.account_id,
            command.item_id,
            clock.now() if command.read else None,
            command.user_id,
        )
        if not found:
            raise InboxItemNotFound(f"inbox item '{command.item_id}' does not exist")
        await uow.commit()
    return command.read
