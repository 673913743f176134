"""notifications' unit of work: its repositories on one transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tangible_notifications.adapters.repository import InboxRepository, NotificationRepository, RuleRepository
from tangible_runtime.unit_of_work import SqlUnitOfWork


class UnitOfWork(SqlUnitOfWork):
    rules: RuleRepository
    notifications: NotificationRepository
    inbox_items: InboxRepository

    def bind(self, session: AsyncSession) -> None:
        self.rules = RuleRepository(session)
        self.notifications = NotificationRepository(session)
        self.inbox_items = InboxRepository(session)
