"""Tenant-scoped credentials: Ed25519-signed JWTs verified in-process.

Services hold only the public key, so verifying costs no call to another service.
Revocation travels as `tangible.credentials.v1.credential_revoked` events that every
service follows into an in-memory set, and invalidation of portal tokens as
`portal_tokens_invalidated` cut-offs (see `tangible_runtime.credentials`).

Two kinds of credential share the format:
- **API keys** (`knd` absent or `api_key`): a tenant's `ingest`, `read`, `admin` or `portal`
  scopes, or an account-scoped read token; long-lived, revoked one by one.
- **Portal tokens** (`knd: portal`): minted by a vendor's backend for one account (and
  optionally one user) to show in a browser; read-only, short-lived, optionally limited
  to some features and carrying extra permissions (`redeem`); invalidated in bulk per
  account or tenant.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

Scope = Literal["ingest", "read", "admin", "portal"]
SCOPES: tuple[Scope, ...] = ("ingest", "read", "admin", "portal")
Kind = Literal["api_key", "portal"]
PERMISSIONS = frozenset({"redeem"})  # what a portal token may do beyond reading
_ALGORITHM = "EdDSA"
_NOT_TENANTS = ("", "*")  # see tangible_runtime.tenancy: `*` means every tenant there


class CredentialError(Exception):
    """Base: the request's credential is missing, invalid, or insufficient."""


class Unauthenticated(CredentialError):
    """No valid credential (→ 401)."""


class Forbidden(CredentialError):
    """A valid credential that may not do this (→ 403)."""


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: str
    credential_id: str
    scopes: frozenset[str]
    account_id: str | None = None
    user_id: str | None = None  # a portal token for one person of the account
    kind: Kind = "api_key"
    features: frozenset[str] | None = None  # a portal token limited to these features
    permissions: frozenset[str] = frozenset()
    issued_at: float = 0.0
    name: str | None = None  # the credential's name (`nam` claim), for the audit log

    def require(self, scope: Scope) -> None:
        # admin implies read and portal (minting portal tokens); an account-scoped token is
        # read-only by construction
        if scope in self.scopes or (scope in ("read", "portal") and "admin" in self.scopes):
            return
        raise Forbidden(f"this credential lacks the '{scope}' scope")

    def require_account(self, account_id: str) -> None:
        if self.account_id is not None and self.account_id != account_id:
            raise Forbidden("this credential is scoped to another account")

    def require_user(self, user_id: str) -> None:
        """A user-scoped token reads that user's items only."""
        if self.user_id is not None and self.user_id != user_id:
            raise Forbidden("this credential is scoped to another user")

    def require_feature(self, feature_key: str) -> None:
        if self.features is not None and feature_key not in self.features:
            raise Forbidden("this credential does not cover this feature")

    def require_permission(self, permission: str) -> None:
        """Admins may do anything a portal token may; a portal token needs it granted."""
        if "admin" not in self.scopes and permission not in self.permissions:
            raise Forbidden(f"this credential lacks the '{permission}' permission")

    def sees_feature(self, feature_key: str) -> bool:
        return self.features is None or feature_key in self.features


def _read_key(value: str) -> bytes:
    text = value.strip()
    if text.startswith("-----BEGIN"):
        return text.encode()
    return Path(text).read_bytes()


@dataclass
class RevocationList:
    """Credential ids revoked so far, and the moments before which portal tokens of a
    tenant (account None) or an account are invalid; filled by the follower, read on every
    request."""

    revoked: set[str] = field(default_factory=set)
    caught_up: bool = False
    portal_cutoffs: dict[tuple[str, str | None], float] = field(default_factory=dict)

    def add(self, credential_ids: Iterable[str]) -> None:
        self.revoked.update(credential_ids)

    def invalidate_portal_tokens(self, tenant_id: str, account_id: str | None, before: float) -> None:
        key = (tenant_id, account_id)
        self.portal_cutoffs[key] = max(before, self.portal_cutoffs.get(key, 0.0))

    def refuses(self, principal: Principal) -> str | None:
        """Why the (signature-checked, unexpired) credential is refused, or None."""
        if principal.credential_id in self.revoked:
            return "the credential has been revoked"
        if principal.kind == "portal" and self.portal_cutoffs:
            cutoff = max(
                self.portal_cutoffs.get((principal.tenant_id, None), 0.0),
                self.portal_cutoffs.get((principal.tenant_id, principal.account_id), 0.0),
            )
            if principal.issued_at < cutoff:
                return "the portal token has been invalidated"
        return None


class TokenVerifier:
    """Verifies signatures once per token: a verified token is remembered (bounded) until
    it expires, since an Ed25519 check costs more than a small request; revocation and
    expiry are still checked on every call."""

    def __init__(
        self,
        public_key_pem: str,
        *,
        issuer: str,
        revocations: RevocationList,
        leeway_seconds: int = 30,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = serialization.load_pem_public_key(_read_key(public_key_pem))
        self._issuer = issuer
        self._revocations = revocations
        self._leeway = leeway_seconds
        self._cache_size = cache_size
        self._clock = clock
        self._verified: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is None:
            principal, expires_at = self._verify_signature(token)
            if len(self._verified) >= self._cache_size:
                self._verified.clear()
            self._verified[token] = (principal, expires_at)
        else:
            principal, expires_at = cached
            if self._clock() > expires_at + self._leeway:
                del self._verified[token]
                raise Unauthenticated("the credential has expired")
        refused = self._revocations.refuses(principal)
        if refused is not None:
            raise Unauthenticated(refused)
        return principal

    def _verify_signature(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._key,  # type: ignore[arg-type]
                algorithms=[_ALGORITHM],
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "jti", "sub", "scp"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("the credential has expired") from error
        except jwt.PyJWTError as error:
            raise Unauthenticated("the credential is not valid") from error
        scopes = claims["scp"]
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise Unauthenticated("the credential is not valid")
        if str(claims["sub"]) in _NOT_TENANTS:  # `*` would widen row-level security to all
            raise Unauthenticated("the credential is not valid")
        account = claims.get("acc")
        kind = claims.get("knd", "api_key")
        features = claims.get("ftr")
        permissions = claims.get("prm", [])
        if (
            kind not in ("api_key", "portal")
            or (kind == "portal" and (account is None or list(scopes) != ["read"]))
            or not _strings(permissions)
            or (features is not None and not _strings(features))
        ):
            raise Unauthenticated("the credential is not valid")
        user = claims.get("usr")
        name = claims.get("nam")
        principal = Principal(
            tenant_id=str(claims["sub"]),
            credential_id=str(claims["jti"]),
            scopes=frozenset(scopes),
            account_id=str(account) if account is not None else None,
            user_id=str(user) if user is not None else None,
            kind=kind,
            features=frozenset(features) if features is not None else None,
            permissions=frozenset(permissions) & PERMISSIONS,
            issued_at=float(claims["iat"]),
            name=name if isinstance(name, str) else None,
        )
        return principal, float(claims["exp"])


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


@dataclass(frozen=True)
class IssuedCredential:
    credential_id: str
    token: str
    expires_at: datetime


class TokenIssuer:
    def __init__(self, private_key_pem: str, *, issuer: str) -> None:
        key = serialization.load_pem_private_key(_read_key(private_key_pem), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the signing key must be an Ed25519 private key")
        self._key = key
        self._issuer = issuer

    def issue(
        self,
        *,
        tenant_id: str,
        scopes: Iterable[str],
        account_id: str | None = None,
        ttl: timedelta = timedelta(days=365),
        now: datetime | None = None,
        credential_id: str | None = None,
        name: str | None = None,
    ) -> IssuedCredential:
        """`name`: the credential's name, carried as `nam` so that the audit log can say who
        acted without a lookup in another service."""
        if tenant_id in _NOT_TENANTS:
            raise ValueError(f"{tenant_id!r} is not a tenant id")
        scope_list = sorted(set(scopes))
        unknown = set(scope_list) - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes: {sorted(unknown)}")
        if account_id is not None and scope_list != ["read"]:
            raise ValueError("account-scoped credentials carry the read scope only")
        claims: dict[str, object] = {"scp": scope_list}
        if account_id is not None:
            claims["acc"] = account_id
        if name is not None:
            claims["nam"] = name
        return self._sign(tenant_id, claims, ttl, now, credential_id)

    def issue_portal(
        self,
        *,
        tenant_id: str,
        account_id: str,
        user_id: str | None = None,
        features: Iterable[str] | None = None,
        permissions: Iterable[str] = (),
        ttl: timedelta = timedelta(hours=1),
        now: datetime | None = None,
    ) -> IssuedCredential:
        """A short-lived read token for one account (and user) to use in a browser."""
        if tenant_id in _NOT_TENANTS:
            raise ValueError(f"{tenant_id!r} is not a tenant id")
        unknown = set(permissions) - PERMISSIONS
        if unknown:
            raise ValueError(f"unknown permissions: {sorted(unknown)}")
        claims: dict[str, object] = {"scp": ["read"], "acc": account_id, "knd": "portal"}
        if user_id is not None:
            claims["usr"] = user_id
        if features is not None:
            claims["ftr"] = sorted(set(features))
        if permissions:
            claims["prm"] = sorted(set(permissions))
        return self._sign(tenant_id, claims, ttl, now, None)

    def _sign(
        self,
        tenant_id: str,
        claims: dict[str, object],
        ttl: timedelta,
        now: datetime | None,
        credential_id: str | None,
    ) -> IssuedCredential:
        issued_at = now or datetime.now(UTC)
        credential_id = credential_id or str(uuid.uuid4())
        claims = {
            **claims,
            "iss": self._issuer,
            "sub": tenant_id,
            "jti": credential_id,
            # a NumericDate may carry fractions (RFC 7519 §2): a token minted right after an
            # invalidation, within the same second, must not read as older than it
            "iat": issued_at.timestamp(),
            "exp": issued_at + ttl,
        }
        token = jwt.encode(claims, self._key, algorithm=_ALGORITHM)
        return IssuedCredential(credential_id, token, issued_at + ttl)


def generate_keypair() -> tuple[str, str]:
    """A new (private, public) Ed25519 PEM pair, for `make run` and tests."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public
