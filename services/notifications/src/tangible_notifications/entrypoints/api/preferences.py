"""Preferences per account and user (read or account-scoped tokens): the reader's own."""

from __future__ import annotations

from fastapi import APIRouter

from tangible_notifications.domain import commands
from tangible_notifications.domain.model import Preference, QuietHours
from tangible_notifications.entrypoints.dependencies import ContainerDep
from tangible_notifications.entrypoints.schemas.inbox import PreferenceIO
from tangible_notifications.service_layer import handlers
from tangible_runtime.app import ReadPrincipal
from tangible_runtime.auth import Forbidden, Principal

router = APIRouter()


def _require_owner(principal: Principal, account_id: str, user_id: str | None) -> None:
    """A user's token manages that user's preferences only (not the account's, nor another
    user's)."""
    principal.require_account(account_id)
    if principal.user_id is not None and user_id is None:
        raise Forbidden("a user's token manages that user's preferences, not the account's")
    if user_id is not None:
        principal.require_user(user_id)


async def _put(
    account_id: str,
    user_id: str | None,
    body: PreferenceIO,
    principal: ReadPrincipal,
    container: ContainerDep,
) -> PreferenceIO:
    _require_owner(principal, account_id, user_id)
    quiet = QuietHours(body.quiet_hours.start, body.quiet_hours.end) if body.quiet_hours else None
    preference = Preference(
        account_id=account_id,
        user_id=user_id,
        email=body.email,
        timezone=body.timezone,
        quiet_hours=quiet,
        channels={k: dict(v) for k, v in body.channels.items()},
        locale=body.locale,
    )
    await handlers.put_preference(
        commands.PutPreference(principal.tenant_id, preference), uow=container.new_uow()
    )
    return body


async def _get(
    account_id: str, user_id: str | None, principal: ReadPrincipal, container: ContainerDep
) -> PreferenceIO:
    _require_owner(principal, account_id, user_id)
    async with container.new_uow() as uow:
        preference = await uow.preferences.get(principal.tenant_id, account_id, user_id)
    return PreferenceIO.model_validate(preference) if preference else PreferenceIO()


@router.get("/accounts/{account_id}/preferences", response_model=PreferenceIO, tags=["preferences"])
async def get_account_preferences(
    account_id: str, principal: ReadPrincipal, container: ContainerDep
) -> PreferenceIO:
    """The account-wide preferences (users inherit what they do not set)."""
    return await _get(account_id, None, principal, container)


@router.put("/accounts/{account_id}/preferences", response_model=PreferenceIO, tags=["preferences"])
async def put_account_preferences(
    account_id: str, body: PreferenceIO, principal: ReadPrincipal, container: ContainerDep
) -> PreferenceIO:
    """Opt-outs, digests (daily or weekly) per channel and category, quiet hours, time zone."""
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
