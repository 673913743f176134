"""Tenant-scoped credentials: Ed25519-signed JWTs verified in-process.

Services hold only the public key, so verifying costs no call to another service.
Revocation travels as `tangible.credentials.v1.credential_revoked` events that every
service follows into an in-memory set (see `RevocationFollower`).
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

Scope = Literal["ingest", "read", "admin"]
SCOPES: tuple[Scope, ...] = ("ingest", "read", "admin")
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

    def require(self, scope: Scope) -> None:
        # admin implies read; an account-scoped token is read-only by construction
        if scope in self.scopes or (scope == "read" and "admin" in self.scopes):
            return
        raise Forbidden(f"this credential lacks the '{scope}' scope")

    def require_account(self, account_id: str) -> None:
        if self.account_id is not None and self.account_id != account_id:
            raise Forbidden("this credential is scoped to another account")


def _read_key(value: str) -> bytes:
    text = value.strip()
    if text.startswith("-----BEGIN"):
        return text.encode()
    return Path(text).read_bytes()


@dataclass
class RevocationList:
    """Credential ids revoked so far; filled by the follower, read on every request."""

    revoked: set[str] = field(default_factory=set)
    caught_up: bool = False

    def add(self, credential_ids: Iterable[str]) -> None:
        self.revoked.update(credential_ids)


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
        if principal.credential_id in self._revocations.revoked:
            raise Unauthenticated("the credential has been revoked")
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
        principal = Principal(
            tenant_id=str(claims["sub"]),
            credential_id=str(claims["jti"]),
            scopes=frozenset(scopes),
            account_id=str(account) if account is not None else None,
        )
        return principal, float(claims["exp"])


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
    ) -> IssuedCredential:
        if tenant_id in _NOT_TENANTS:
            raise ValueError(f"{tenant_id!r} is not a tenant id")
        scope_list = sorted(set(scopes))
        unknown = set(scope_list) - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes: {sorted(unknown)}")
        if account_id is not None and scope_list != ["read"]:
            raise ValueError("account-scoped credentials carry the read scope only")
        issued_at = now or datetime.now(UTC)
        credential_id = str(uuid.uuid4())
        claims: dict[str, object] = {
            "iss": self._issuer,
            "sub": tenant_id,
            "jti": credential_id,
            "scp": scope_list,
            "iat": issued_at,
            "exp": issued_at + ttl,
        }
        if account_id is not None:
            claims["acc"] = account_id
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
