"""`tangible.credentials.v1`: credential revocations every service follows."""

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
