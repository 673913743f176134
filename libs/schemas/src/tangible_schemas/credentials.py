"""`tangible.credentials.v1`: credential revocations and portal-token invalidations every
service follows."""

from __future__ import annotations

from datetime import datetime

from tangible_schemas.base import EventData


class CredentialRevoked(EventData):
    event_type = "tangible.credentials.v1.credential_revoked"
    summary = "A credential (token id) was revoked; every service refuses it from now on."

    credential_id: str
    revoked_at: datetime

    @property
    def subject(self) -> str:
        return self.credential_id


class PortalTokensInvalidated(EventData):
    event_type = "tangible.credentials.v1.portal_tokens_invalidated"
    summary = (
        "Every portal token of an account (or, without account_id, of the whole tenant) issued "
        "before `issued_before` is refused from now on."
    )

    account_id: str | None = None
    issued_before: datetime

    @property
    def subject(self) -> str:
        # the compacted topic keeps the latest cut-off per key: one key per account, and the
        # empty subject (no account id is empty) for the tenant-wide one
        return self.account_id if self.account_id is not None else ""
