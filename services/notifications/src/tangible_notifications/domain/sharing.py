"""Share links to an impact report: read-only, no login, expiring and revocable.

The token names the tenant and the link and carries an HMAC over both, so a forged or
altered token is refused before any database read; the stored link says whether it is
still valid (expiry, revocation) and which report it shows."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

MAX_TTL_HOURS = 90 * 24


@dataclass(frozen=True)
class ShareLink:
    id: str
    tenant_id: str
    account_id: str
    period: str
    locale: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ShareSigner:
    def __init__(self, key: bytes) -> None:
        # a key of its own, derived, so a share token never doubles as anything else
        self._key = hashlib.sha256(b"tangible report share links\x00" + key).digest()

    def _mac(self, tenant_id: str, link_id: str) -> str:
        message = tenant_id.encode() + b"\x00" + link_id.encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def token(self, tenant_id: str, link_id: str) -> str:
        return f"{_b64(tenant_id.encode())}.{link_id}.{self._mac(tenant_id, link_id)}"

    def verify(self, token: str) -> tuple[str, str] | None:
        """(tenant, link id) of a token this service signed; None for any other string."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            tenant_id = _unb64(parts[0]).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        if not tenant_id or tenant_id == "*":
            return None
        if not hmac.compare_digest(self._mac(tenant_id, parts[1]), parts[2]):
            return None
        return tenant_id, parts[1]
