"""DTOs of the tenant's API keys and of portal tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tangible_entitlements.entrypoints.schemas.common import Strict

ApiKeyScope = Literal["ingest", "read", "admin", "portal"]
Permission = Literal["redeem"]
PORTAL_TTL_DEFAULT = 3600
PORTAL_TTL_MAX = 86_400


class CredentialCreate(Strict):
    name: str = Field(min_length=1, max_length=200, description="What it is for, e.g. 'billing backend'.")
    scopes: list[ApiKeyScope] = Field(
        min_length=1,
        max_length=4,
        description="`portal`: may only mint portal tokens (for a backend that serves a customer portal).",
    )
    expires_at: AwareDatetime | None = Field(default=None, description="Default: no expiry (ten years).")


class CredentialRead(BaseModel):
    """A key's metadata; the secret is never shown again after creation."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    status: Literal["active", "expired", "revoked"]


class CredentialCreated(CredentialRead):
    token: str = Field(description="The bearer token: shown once, store it now.")


class PortalTokenCreate(Strict):
    account_id: str = Field(min_length=1, max_length=256)
    user_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="One person of the account: the inbox and preferences show theirs only.",
    )
    ttl_seconds: int = Field(default=PORTAL_TTL_DEFAULT, ge=60, le=PORTAL_TTL_MAX)
    features: list[str] | None = Field(
        default=None, max_length=200, description="Limit the token to these feature keys."
    )
    permissions: list[Permission] = Field(
        default_factory=list, max_length=1, description="`redeem`: the customer may redeem credits."
    )


class PortalTokenRead(BaseModel):
    token: str
    expires_at: datetime
    account_id: str
    user_id: str | None
    features: list[str] | None
    permissions: list[str]


class PortalInvalidate(Strict):
    account_id: str | None = Field(
        default=None, min_length=1, max_length=256, description="Omit to invalidate the whole tenant's."
    )


class PortalInvalidated(BaseModel):
    account_id: str | None
    issued_before: datetime
