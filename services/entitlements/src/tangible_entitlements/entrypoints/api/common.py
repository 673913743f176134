"""What the API modules share: pagination and the actor recorded in history."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from tangible_runtime.auth import Principal


class Paging:
    def __init__(
        self,
        limit: int = Query(default=50, ge=1, le=500, description="Page size."),
        offset: int = Query(default=0, ge=0, le=10_000_000, description="Items to skip."),
    ) -> None:
        self.limit = limit
        self.offset = offset


PagingDep = Annotated[Paging, Depends()]


def actor(principal: Principal) -> str:
    return f"credential:{principal.credential_id}"
