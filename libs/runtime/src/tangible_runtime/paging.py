"""Pagination every list route shares: one dependency for `limit`/`offset`, one `Page[T]`;
and for lists that grow while they are read (the audit log, the tenant's book), a cursor:
`CursorPagingDep` and `CursorPage[T]`."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from tangible_runtime.domain import Rejected

T = TypeVar("T")

MAX_LIMIT = 500
MAX_OFFSET = 10_000_000  # a bound, so that a huge offset is a 422 rather than a slow scan


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


async def _paging(
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT, description="Page size."),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET, description="Items to skip."),
) -> Paging:
    return Paging(limit, offset)


PagingDep = Annotated[Paging, Depends(_paging)]


class Page(BaseModel, Generic[T]):
    """One page of a list: its items, how many there are in all, and where it starts."""

    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: list[T], total: int, paging: Paging) -> Page[T]:
        return cls(items=items, total=total, limit=paging.limit, offset=paging.offset)


class InvalidCursor(Rejected):
    code = "invalid-cursor"


@dataclass(frozen=True)
class CursorPaging:
    """`after`: the sort key of the last item of the previous page (None: the first page)."""

    limit: int
    after: tuple[Any, ...] | None


def encode_cursor(key: Sequence[Any]) -> str:
    """An opaque cursor for a sort key of JSON-able values (dates as ISO text)."""
    raw = json.dumps([value.isoformat() if hasattr(value, "isoformat") else value for value in key])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor("the cursor is not one this service returned") from error
    if not isinstance(key, list) or not key or not all(isinstance(v, str | int | float) for v in key):
        raise InvalidCursor("the cursor is not one this service returned")
    return tuple(key)


async def _cursor_paging(
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT, description="Page size."),
    cursor: str | None = Query(
        default=None,
        max_length=1000,
        description="`next_cursor` of the previous page; absent for the first page.",
    ),
) -> CursorPaging:
    return CursorPaging(limit, decode_cursor(cursor) if cursor else None)


CursorPagingDep = Annotated[CursorPaging, Depends(_cursor_paging)]


class CursorPage(BaseModel, Generic[T]):
    """One page of a list read with a cursor: stable under inserts, no total to count."""

    items: list[T]
    limit: int
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")

    @classmethod
    def of(cls, rows: Sequence[T], paging: CursorPaging, key: Callable[[T], Sequence[Any]]) -> CursorPage[T]:
        """`rows`: up to `limit + 1` items read after the cursor; the extra one says more follow."""
        items = list(rows[: paging.limit])
        more = len(rows) > paging.limit
        cursor = encode_cursor(key(items[-1])) if more else None
        return cls(items=items, limit=paging.limit, next_cursor=cursor)
