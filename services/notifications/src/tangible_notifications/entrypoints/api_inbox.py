"""The in-app inbox (read or account-scoped tokens) and preferences per account and user."""

from __future__ import annotations

from fastapi import APIRouter, Query

from tangible_notifications.domain import commands
from tangible_notifications.domain.model import Preference, QuietHours
from tangible_notifications.entrypoints.dependencies import ContainerDep
from tangible_notifications.entrypoints.schemas import (
    InboxItemRead,
    InboxPage,
    PreferenceIO,
    QuietHoursIO,
    ReadState,
    UnreadCount,
)
from tangible_notifications.service_layer import handlers, views
from tangible_runtime.app import ReadPrincipal
from tangible_runtime.auth import Forbidden, Principal

router = APIRouter()
UserQuery = Query(
    default=None, max_length=256, description="A user's view: their items and account-wide ones"
)


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
    user_id: str | None = UserQuery,
    unread: bool = Query(default=False, description="Only unread items"),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> InboxPage:
    principal.require_account(account_id)
    user_id = _audience(principal, user_id)
    rows, unread_count = await views.inbox_page(
        container.new_uow(),
        tenant_id=principal.tenant_id,
        account_id=account_id,
        user_id=user_id,
        unread_only=unread,
        limit=limit,
        offset=offset,
    )
    items = [
        InboxItemRead(
            id=r["id"],
            title=r["title"],
            body=r["body"],
            category=r["category"],
            priority=r["priority"],
            user_id=r["user_id"],
            read=r["read_at"] is not None,
            created_at=r["created_at"],
        )
        for r in rows
    ]
    return InboxPage(
        account_id=account_id, items=items, unread_count=unread_count, limit=limit, offset=offset
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
    user_id = _audience(principal, user_id)
    count = await views.unread_count(
        container.new_uow(), tenant_id=principal.tenant_id, account_id=account_id, user_id=user_id
    )
    return UnreadCount(account_id=account_id, user_id=user_id, unread=count)


@router.put(
    "/accounts/{account_id}/inbox/{item_id}/read",
    response_model=ReadState,
    tags=["inbox"],
    summary="Mark an item read or unread",
)
async def mark_item(
    account_id: str, item_id: str, body: ReadState, principal: ReadPrincipal, container: ContainerDep
) -> ReadState:
    """Allowed with account-scoped read tokens: read state is the reader's own, not account data."""
    principal.require_account(account_id)
    command = commands.MarkInboxItem(principal.tenant_id, account_id, item_id, body.read)
    read = await handlers.mark_inbox_item(command, uow=container.new_uow(), clock=container.clock)
    return ReadState(read=read)


def _audience(principal: Principal, user_id: str | None) -> str | None:
    """A user-scoped token reads as its user, whatever the query says (and may not ask for
    someone else)."""
    if user_id is not None:
        principal.require_user(user_id)
    return principal.user_id or user_id


def _not_a_user(principal: Principal) -> None:
    if principal.user_id is not None:
        raise Forbidden("a user's token manages that user's preferences, not the account's")


def _preference_io(p: Preference | None) -> PreferenceIO:
    if p is None:
        return PreferenceIO()
    quiet = QuietHoursIO(start=p.quiet_hours.start, end=p.quiet_hours.end) if p.quiet_hours else None
    return PreferenceIO.model_validate(
        {"email": p.email, "timezone": p.timezone, "quiet_hours": quiet, "channels": p.channels}
    )


async def _put(
    account_id: str,
    user_id: str | None,
    body: PreferenceIO,
    principal: ReadPrincipal,
    container: ContainerDep,
) -> PreferenceIO:
    principal.require_account(account_id)
    if user_id is not None:
        principal.require_user(user_id)
    quiet = QuietHours(body.quiet_hours.start, body.quiet_hours.end) if body.quiet_hours else None
    preference = Preference(
        account_id=account_id,
        user_id=user_id,
        email=body.email,
        timezone=body.timezone,
        quiet_hours=quiet,
        channels={k: dict(v) for k, v in body.channels.items()},
    )
    await handlers.put_preference(
        commands.PutPreference(principal.tenant_id, preference), uow=container.new_uow()
    )
    return body


async def _get(
    account_id: str, user_id: str | None, principal: ReadPrincipal, container: ContainerDep
) -> PreferenceIO:
    principal.require_account(account_id)
    if user_id is not None:
        principal.require_user(user_id)
    async with container.new_uow() as uow:
        return _preference_io(await uow.preferences.get(principal.tenant_id, account_id, user_id))


@router.get("/accounts/{account_id}/preferences", response_model=PreferenceIO, tags=["preferences"])
async def get_account_preferences(
    account_id: str, principal: ReadPrincipal, container: ContainerDep
) -> PreferenceIO:
    """The account-wide preferences (users inherit what they do not set)."""
    _not_a_user(principal)
    return await _get(account_id, None, principal, container)


@router.put("/accounts/{account_id}/preferences", response_model=PreferenceIO, tags=["preferences"])
async def put_account_preferences(
    account_id: str, body: PreferenceIO, principal: ReadPrincipal, container: ContainerDep
) -> PreferenceIO:
    """Opt-outs, digests (daily or weekly) per channel and category, quiet hours, time zone."""
    _not_a_user(principal)
    return await _put(account_id, None, body, principal, container)


@router.get(
    "/accounts/{account_id}/users/{user_id}/preferences", response_model=PreferenceIO, tags=["preferences"]
)
async def get_user_preferences(
    account_id: str, user_id: str, principal: ReadPrincipal, container: ContainerDep
) -> PreferenceIO:
    return await _get(account_id, user_id, principal, container)


@router.put(
    "/accounts/{account_id}/users/{user_id}/preferences", response_model=PreferenceIO, tags=["preferences"]
)
async def put_user_preferences(
    account_id: str, user_id: str, body: PreferenceIO, principal: ReadPrincipal, container: ContainerDep
) -> PreferenceIO:
    """A user's own settings; they override the account's field by field."""
    return await _put(account_id, user_id, body, principal, container)
