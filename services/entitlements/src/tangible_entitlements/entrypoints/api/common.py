"""What the API modules share: pagination and the actor recorded in history."""

from __future__ import annotations

from tangible_entitlements.entrypoints.dependencies import Container
from tangible_runtime.auth import Principal
from tangible_runtime.paging import Paging, PagingDep

__all__ = ["Paging", "PagingDep", "actor", "refresh_view"]


def actor(principal: Principal) -> str:
    return f"credential:{principal.credential_id}"


async def refresh_view(container: Container, tenant_id: str, account_id: str) -> None:
    """Re-read an account into this replica's view right after a change, so that its own
    next check already sees it (other replicas follow the event moments later)."""
    if container.view is not None and container.view.loaded:
        await container.view.reload_accounts(container.new_uow(), [(tenant_id, account_id)])
