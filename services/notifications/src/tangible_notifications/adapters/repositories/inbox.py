"""The in-app inbox: one item per inbox notification, read or unread."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson
from sqlalchemy import ColumnElement, and_, func, or_, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_notifications.adapters import tables as t
from tangible_notifications.domain.records import InboxItem
from tangible_notifications.service_layer.ports import ACCOUNT_WIDE

_ADD = text(
    """
    INSERT INTO inbox_items (id, tenant_id, account_id, user_id, notification_id, title, body, category, priority,
                             created_at)
    SELECT id, tenant_id, account_id, user_id, id, title, body, category, priority, created_at
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        id text, tenant_id text, account_id text, user_id text, title text, body text, category text,
        priority text, created_at timestamptz)
    ON CONFLICT (id) DO NOTHING
    """
)


def _scope(tenant_id: str, account_id: str, user_id: str | None) -> ColumnElement[bool]:
    """A user sees their own items and the account-wide ones; no user: the whole account."""
    c = t.inbox_items.c
    where = and_(c.tenant_id == tenant_id, c.account_id == account_id)
    if user_id == ACCOUNT_WIDE:
        where = and_(where, c.user_id.is_(None))
    elif user_id is not None:
        where = and_(where, or_(c.user_id.is_(None), c.user_id == user_id))
    return where


def _item(row: RowMapping) -> InboxItem:
    return InboxItem(
        id=row["id"],
        tenant_id=row["tenant_id"],
        account_id=row["account_id"],
        user_id=row["user_id"],
        title=row["title"],
        body=row["body"],
        category=row["category"],
        priority=row["priority"],
        created_at=row["created_at"],
        read_at=row["read_at"],
    )


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, items: Sequence[InboxItem]) -> None:
        """Items keyed by their notification id, so adding one twice is a no-op."""
        if items:
            # rows as one JSON document (see `notifications._INSERT` for why); orjson writes
            # a dataclass as an object of its fields
            await self._session.execute(_ADD, {"rows": orjson.dumps(list(items)).decode()})

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
        c = t.inbox_items.c
        query = (
            select(t.inbox_items)
            .where(_scope(tenant_id, account_id, user_id))
            .order_by(c.created_at.desc(), c.id)
            .limit(limit)
            .offset(offset)
        )
        if unread_only:
            query = query.where(c.read_at.is_(None))
        return [_item(r) for r in (await self._session.execute(query)).mappings()]

    async def unread_count(self, tenant_id: str, account_id: str, user_id: str | None) -> int:
        c = t.inbox_items.c
        query = select(func.count()).where(_scope(tenant_id, account_id, user_id), c.read_at.is_(None))
        return int((await self._session.execute(query)).scalar_one())

    async def mark(
        self,
        tenant_id: str,
        account_id: str,
        item_id: str,
        read_at: datetime | None,
        user_id: str | None = None,
    ) -> bool:
        """False when the account has no such item, or none that `user_id`'s reads show."""
        c = t.inbox_items.c
        result = await self._session.execute(
            update(t.inbox_items)
            .where(_scope(tenant_id, account_id, user_id), c.id == item_id)
            .values(read_at=read_at)
            .returning(t.inbox_items.c.id)
        )
        return result.first() is not None
