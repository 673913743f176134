"""A tenant's API keys, as the tenant sees them: metadata, never the secret."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# what an HTTP-issued key may carry; `portal` keys may only mint portal tokens
API_KEY_SCOPES = ("ingest", "read", "admin", "portal")


@dataclass(frozen=True)
class Credential:
    id: str
    tenant_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"
