"""Credential handlers: a tenant's API keys over HTTP, and portal tokens for its customers.

Keys are signed here (the only service that holds the signing key) and only their metadata
is stored; revocations and portal-token invalidations leave through the outbox, in the same
transaction as the row that records them, onto the topic every service follows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from tangible_entitlements.domain.credentials import Credential
from tangible_entitlements.domain.errors import CredentialNotFound, InvalidCredential, IssuingNotConfigured
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_runtime.auth import IssuedCredential, TokenIssuer
from tangible_runtime.domain import Clock, SystemClock
from tangible_schemas.credentials import CredentialRevoked, PortalTokensInvalidated

API_KEY_LIFETIME = timedelta(days=3650)  # "no expiry": ten years, then rotate
# Credentials live on the wall clock: every service verifies expiry and issue times against
# it (as TLS does), whatever clock the service's business logic runs on (tests use a manual
# one); lifetimes, expiry and invalidation cut-offs are therefore read from it.
WALL_CLOCK = SystemClock()


@dataclass(frozen=True)
class NewCredential:
    credential: Credential
    token: str  # shown once


def _require(issuer: TokenIssuer | None) -> TokenIssuer:
    if issuer is None:
        raise IssuingNotConfigured("this deployment issues no credentials (no signing key is configured)")
    return issuer


async def create_credential(
    *,
    tenant_id: str,
    name: str,
    scopes: tuple[str, ...],
    expires_at: datetime | None,
    actor: str,
    uow: UnitOfWork,
    clock: Clock,
    issuer: TokenIssuer | None,
) -> NewCredential:
    now = WALL_CLOCK.now()
    if expires_at is not None and expires_at <= now:
        raise InvalidCredential("expires_at must be in the future")
    credential_id = str(uuid.uuid4())
    issued = _require(issuer).issue(
        tenant_id=tenant_id,
        scopes=scopes,
        ttl=(expires_at - now) if expires_at is not None else API_KEY_LIFETIME,
        now=now,
        credential_id=credential_id,
        name=name,  # the audit log names the actor without a lookup here
    )
    credential = Credential(
        credential_id, tenant_id, name, tuple(sorted(set(scopes))), clock.now(), actor, issued.expires_at
    )
    async with uow:
        await uow.credentials.add(credential)
        await uow.commit()
    return NewCredential(credential, issued.token)


async def list_credentials(
    *, tenant_id: str, limit: int, offset: int, uow: UnitOfWork
) -> tuple[list[Credential], int]:
    async with uow:
        return await uow.credentials.page(tenant_id, limit, offset)


async def revoke_credential(
    *, tenant_id: str, credential_id: str, actor: str, uow: UnitOfWork, clock: Clock
) -> Credential:
    """Idempotent: revoking twice answers the same revocation and publishes it again (the
    followers' set ignores repeats)."""
    async with uow:
        credential = await uow.credentials.revoke(tenant_id, credential_id, clock.now(), actor)
        if credential is None:
            raise CredentialNotFound(f"credential '{credential_id}' does not exist")
        assert credential.revoked_at is not None
        uow.outbox.add(
            CredentialRevoked(
                tenant_id=tenant_id, credential_id=credential_id, revoked_at=credential.revoked_at
            )
        )
        await uow.commit()
    return credential


def issue_portal_token(
    *,
    tenant_id: str,
    account_id: str,
    user_id: str | None,
    features: list[str] | None,
    permissions: list[str],
    ttl: timedelta,
    issuer: TokenIssuer | None,
) -> IssuedCredential:
    return _require(issuer).issue_portal(
        tenant_id=tenant_id,
        account_id=account_id,
        user_id=user_id,
        features=features,
        permissions=permissions,
        ttl=ttl,
        now=WALL_CLOCK.now(),
    )


async def invalidate_portal_tokens(*, tenant_id: str, account_id: str | None, uow: UnitOfWork) -> datetime:
    """Every portal token of the account (or tenant) issued before now stops working in
    every service once the event is followed (the follower polls every half second)."""
    before = WALL_CLOCK.now()
    async with uow:
        uow.outbox.add(
            PortalTokensInvalidated(tenant_id=tenant_id, account_id=account_id, issued_before=before)
        )
        await uow.commit()
    return before
