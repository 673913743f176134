"""What the API modules share: pagination and the actor recorded in history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from tangible_runtime.auth import Principal


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


async def _paging(
    limit: int = Query(default=50, ge=1, le=500, description="Page size."),
    offset: int = Query(default=0, ge=0, le=10_000_000, description="Items to skip."),
) -> Paging:
    return Paging(limit, offset)


PagingDep = Annotated[Paging, Depends(_paging)]


def actor(principal: Principal) -> str:
    return f"credential:{principal.credential_id}"
