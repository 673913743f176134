"""Pagination every list route shares: one dependency for `limit`/`offset`, one `Page[T]`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

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
