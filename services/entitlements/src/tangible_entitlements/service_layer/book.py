"""The tenant's book (read side): its licenses filtered and sorted, with the evidence this
service already holds for each, in keyset pages, through the unit of work's `book` port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_entitlements.service_layer.reads import BookFilter, BookRow, BookSort


async def book_page(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    filters: BookFilter,
    sort: BookSort,
    now: datetime,
    after: tuple[Any, ...] | None,
    limit: int,
) -> list[BookRow]:
    """Up to `limit` rows after `after` (a row's `key`); ValueError for a foreign key."""
    async with uow:
        return await uow.book.page(tenant_id, filters, sort, now=now, after=after, limit=limit)


async def whole_book(
    new_uow: Callable[[], UnitOfWork],
    *,
    tenant_id: str,
    filters: BookFilter,
    sort: BookSort,
    now: datetime,
    batch: int,
) -> AsyncIterator[list[BookRow]]:
    """Every row, in batches, each read in a transaction of its own (an export of a large
    book holds no transaction open while the client reads); `now` fixed for the whole."""
    last: tuple[Any, ...] | None = None
    while True:
        rows = await book_page(
            new_uow(), tenant_id=tenant_id, filters=filters, sort=sort, now=now, after=last, limit=batch
        )
        if rows:
            yield rows
        if len(rows) < batch:
            return
        last = rows[-1].key
