"""The in-app inbox, read with read or account-scoped tokens."""

from __future__ import annotations

from fastapi import APIRouter, Query

from tangible_notifications.domain import commands
from tangible_notifications.entrypoints.dependencies import ContainerDep
from tangible_notifications.entrypoints.schemas.inbox import InboxItemRead, InboxPage, ReadState, UnreadCount
from tangible_notifications.service_layer import handlers, views
from tangible_notifications.service_layer.ports import ACCOUNT_WIDE
from tangible_runtime.app import ReadPrincipal
from tangible_runtime.auth import Forbidden, Principal
from tangible_runtime.paging import PagingDep

router = APIRouter()
UserQuery = Query(
    default=None, max_length=256, description="A user's view: their items and account-wide ones"
)


def audience(principal: Principal, user_id: str | None) -> str | None:
    """Whose items a read shows. A user's portal token: that user's (and the account-wide
    ones), whatever the query asks; an account's portal token: the account-wide ones only;
    API keys: as the query asks (all, or a user's view)."""
    if principal.user_id is not None:
        principal.require_user(user_id or principal.user_id)
        return principal.user_id
    if principal.kind == "portal":
        if user_id is not None:
            raise Forbidden("this credential reads the account-wide items only")
        return ACCOUNT_WIDE
    return user_id


@router.get(
    "/accounts/{account_id}/inbox",
    response_model=InboxPage,
    tags=["inbox"],
    summary="The in-app inbox, newest first",
)
async def get_inbox(
    account_id: str,
    principal: ReadPrincipal,
    container: ContainerDep,
    paging: PagingDep,
    user_id: str | None = UserQuery,
    unread: bool = Query(default=False, description="Only unread items"),
) -> InboxPage:
    principal.require_account(account_id)
    user_id = audience(principal, user_id)
    items, unread_count = await views.inbox_page(
        container.new_uow(),
        tenant_id=principal.tenant_id,
        account_id=account_id,
        user_id=user_id,
        unread_only=unread,
        limit=paging.limit,
        offset=paging.offset,
    )
    return InboxPage(
        account_id=account_id,
        items=[InboxItemRead.model_validate(item) for item in items],
        unread_count=unread_count,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.get(
    "/accounts/{account_id}/inbox/unread-count",
    response_model=UnreadCount,
    tags=["inbox"],
    summary="Unread items",
)
async def get_unread_count(
    account_id: str, principal: ReadPrincipal, container: ContainerDep, user_id: str | None = UserQuery
) -> UnreadCount:
    principal.require_account(account_id)
    user_id = audience(principal, user_id)
    count = await views.unread_count(
        container.new_uow(), tenant_id=principal.tenant_id, account_id=account_id, user_id=user_id
    )
    return UnreadCount(account_id=account_id, user_id=user_id or None, unread=count)


@router.put(
    "/accounts/{account_id}/inbox/{item_id}/read",
    response_model=ReadState,
    tags=["inbox"],
    summary="Mark an item read or unread",
)
async def mark_item(
    account_id: str, item_id: str, body: ReadState, principal: ReadPrincipal, container: ContainerDep
) -> ReadState:
    """Allowed with account-scoped read tokens: read state is the reader's own, not account data.
    A portal token marks only the items its inbox shows (404 for another user's)."""
    principal.require_account(account_id)
    command = commands.MarkInboxItem(
        principal.tenant_id, account_id, item_id, body.read, user_id=audience(principal, None)
    )
    read = await handlers.mark_inbox_item(command, uow=container.new_uow(), clock=container.clock)
    return ReadState(read=read)
