"""Token verification: signature once per token, revocation and expiry on every call."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tangible_runtime.auth import (
    RevocationList,
    TokenIssuer,
    TokenVerifier,
    Unauthenticated,
    generate_keypair,
)


@pytest.fixture
def keys() -> tuple[str, str]:
    return generate_keypair()


def test_a_remembered_token_is_still_refused_once_revoked(keys: tuple[str, str]) -> None:
    revocations = RevocationList()
    verifier = TokenVerifier(keys[1], issuer="tangible", revocations=revocations)
    credential = TokenIssuer(keys[0], issuer="tangible").issue(tenant_id="t1", scopes=["ingest"])
    assert verifier.verify(credential.token).tenant_id == "t1"
    revocations.add([credential.credential_id])
    with pytest.raises(Unauthenticated, match="revoked"):
        verifier.verify(credential.token)


def test_a_remembered_token_is_refused_once_expired(keys: tuple[str, str]) -> None:
    now = [0.0]
    verifier = TokenVerifier(
        keys[1], issuer="tangible", revocations=RevocationList(), leeway_seconds=30, clock=lambda: now[0]
    )
    credential = TokenIssuer(keys[0], issuer="tangible").issue(
        tenant_id="t1", scopes=["ingest"], ttl=timedelta(minutes=10)
    )
    now[0] = credential.expires_at.timestamp()
    assert verifier.verify(credential.token).scopes == frozenset({"ingest"})  # within the leeway
    now[0] += 31
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(credential.token)


def test_the_cache_is_bounded(keys: tuple[str, str]) -> None:
    verifier = TokenVerifier(keys[1], issuer="tangible", revocations=RevocationList(), cache_size=2)
    issuer = TokenIssuer(keys[0], issuer="tangible")
    tokens = [issuer.issue(tenant_id=f"t{n}", scopes=["read"]).token for n in range(5)]
    assert [verifier.verify(t).tenant_id for t in tokens] == [f"t{n}" for n in range(5)]
    assert len(verifier._verified) <= 2


def test_no_credential_names_every_tenant(keys: tuple[str, str]) -> None:
    """`*` is what row-level security reads as "all tenants": no token may carry it."""
    import jwt
    from cryptography.hazmat.primitives import serialization

    issuer = TokenIssuer(keys[0], issuer="tangible")
    for tenant in ("*", ""):
        with pytest.raises(ValueError, match="not a tenant id"):
            issuer.issue(tenant_id=tenant, scopes=["admin"])
    signing_key = serialization.load_pem_private_key(keys[0].encode(), password=None)
    forged = jwt.encode(
        {"iss": "tangible", "sub": "*", "jti": "x", "scp": ["admin"], "iat": 0, "exp": 4_000_000_000},
        signing_key,  # type: ignore[arg-type]
        algorithm="EdDSA",
    )
    verifier = TokenVerifier(keys[1], issuer="tangible", revocations=RevocationList())
    with pytest.raises(Unauthenticated, match="not valid"):
        verifier.verify(forged)
