"""The tenant's book (read side), rewards' part: its accounts' open credit expiring within a
window of `now`, per account and unit, in keyset pages, through the unit of work's `book` port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

from tangible_rewards.service_layer.ports import UnitOfWork
from tangible_rewards.service_layer.reads import ExpiringCredit


async def book_page(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    now: datetime,
    within: timedelta,
    unit: str | None,
    after: tuple[Any, ...] | None,
    limit: int,
) -> list[ExpiringCredit]:
    """Up to `limit` entries after `after` (an entry's `key`): credit expiring in
    [now, now + within), soonest first; ValueError for a foreign key."""
    async with uow:
        return await uow.book.page(
            tenant_id, now=now, until=now + within, unit=unit, after=after, limit=limit
        )


async def whole_book(
    new_uow: Callable[[], UnitOfWork],
    *,
    tenant_id: str,
    now: datetime,
    within: timedelta,
    unit: str | None,
    batch: int,
) -> AsyncIterator[list[ExpiringCredit]]:
    """Every entry, in batches, each read in a transaction of its own (an export of a large
    book holds no transaction open while the client reads); `now` fixed for the whole."""
    last: tuple[Any, ...] | None = None
    while True:
        entries = await book_page(
            new_uow(), tenant_id=tenant_id, now=now, within=within, unit=unit, after=last, limit=batch
        )
        if entries:
            yield entries
        if len(entries) < batch:
            return
        last = entries[-1].key
