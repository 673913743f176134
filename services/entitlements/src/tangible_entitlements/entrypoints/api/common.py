"""What the API modules share: pagination and the actor recorded in history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from tangible_entitlements.entrypoints.dependencies import Container
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


async def refresh_view(container: Container, tenant_id: str, account_id: str) -> None:
    """Re-read an account into this replica's view right after a change, so that its own
    next check already sees it (other replicas follow the event moments later)."""
    if container.view is not None and container.view.loaded:
        await container.view.reload_accounts(container.new_uow(), [(tenant_id, account_id)])
