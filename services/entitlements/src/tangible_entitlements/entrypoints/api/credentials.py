"""The tenant's credentials over HTTP: API keys (admin) and portal tokens (admin or portal).

Only the very first admin key of a new tenant needs the CLI; everything after is here, so a
vendor never handles the platform's signing key.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from tangible_entitlements.domain.credentials import Credential
from tangible_entitlements.entrypoints.api.common import PagingDep, actor
from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_entitlements.entrypoints.schemas.credentials import (
    CredentialCreate,
    CredentialCreated,
    CredentialRead,
    PortalInvalidate,
    PortalInvalidated,
    PortalTokenCreate,
    PortalTokenRead,
)
from tangible_entitlements.service_layer.handlers import credentials as handlers
from tangible_runtime.app import AdminPrincipal, PortalPrincipal
from tangible_runtime.paging import Page

router = APIRouter(tags=["credentials"])


def _read(credential: Credential) -> CredentialRead:
    status = credential.status(handlers.WALL_CLOCK.now())  # expiry is a wall-clock matter
    return CredentialRead.model_validate(
        {**credential.__dict__, "scopes": list(credential.scopes), "status": status}
    )


@router.post(
    "/credentials",
    status_code=201,
    response_model=CredentialCreated,
    summary="Create an API key (shown once)",
)
async def create_credential(
    body: CredentialCreate, principal: AdminPrincipal, container: ContainerDep
) -> CredentialCreated:
    created = await handlers.create_credential(
        tenant_id=principal.tenant_id,
        name=body.name,
        scopes=tuple(body.scopes),
        expires_at=body.expires_at,
        actor=actor(principal),
        uow=container.new_uow(),
        clock=container.clock,
        issuer=container.issuer,
    )
    read = _read(created.credential)
    return CredentialCreated(**read.model_dump(), token=created.token)


@router.get("/credentials", response_model=Page[CredentialRead], summary="The tenant's API keys (no secrets)")
async def list_credentials(
    principal: AdminPrincipal, container: ContainerDep, paging: PagingDep
) -> Page[CredentialRead]:
    found, total = await handlers.list_credentials(
        tenant_id=principal.tenant_id, limit=paging.limit, offset=paging.offset, uow=container.new_uow()
    )
    return Page.of([_read(c) for c in found], total, paging)


@router.post(
    "/credentials/{credential_id}/revoke",
    response_model=CredentialRead,
    summary="Revoke an API key: every service refuses it within moments",
)
async def revoke_credential(
    credential_id: str, principal: AdminPrincipal, container: ContainerDep
) -> CredentialRead:
    revoked = await handlers.revoke_credential(
        tenant_id=principal.tenant_id,
        credential_id=credential_id,
        actor=actor(principal),
        uow=container.new_uow(),
        clock=container.clock,
    )
    return _read(revoked)


@router.post(
    "/portal-tokens",
    status_code=201,
    response_model=PortalTokenRead,
    summary="Mint a short-lived, read-only token for one account (and user) to use in a browser",
)
async def create_portal_token(
    body: PortalTokenCreate, principal: PortalPrincipal, container: ContainerDep
) -> PortalTokenRead:
    issued = handlers.issue_portal_token(
        tenant_id=principal.tenant_id,
        account_id=body.account_id,
        user_id=body.user_id,
        features=body.features,
        permissions=list(body.permissions),
        ttl=timedelta(seconds=body.ttl_seconds),
        issuer=container.issuer,
    )
    return PortalTokenRead(
        token=issued.token,
        expires_at=issued.expires_at,
        account_id=body.account_id,
        user_id=body.user_id,
        features=sorted(set(body.features)) if body.features is not None else None,
        permissions=sorted(set(body.permissions)),
    )


@router.post(
    "/portal-tokens/invalidate",
    status_code=202,
    response_model=PortalInvalidated,
    summary="Invalidate every portal token of an account (or of the tenant) issued until now",
)
async def invalidate_portal_tokens(
    body: PortalInvalidate, principal: PortalPrincipal, container: ContainerDep
) -> PortalInvalidated:
    before = await handlers.invalidate_portal_tokens(
        tenant_id=principal.tenant_id,
        account_id=body.account_id,
        uow=container.new_uow(),
    )
    return PortalInvalidated(account_id=body.account_id, issued_before=before)
