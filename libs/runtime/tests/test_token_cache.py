"""Verified tokens are cached, but revocation still applies on every use."""

from __future__ import annotations

import pytest

from tangible_runtime.auth import (
    RevocationList,
    TokenIssuer,
    TokenVerifier,
    Unauthenticated,
    generate_keypair,
)


def test_a_cached_token_is_refused_once_revoked() -> None:
    private, public = generate_keypair()
    issued = TokenIssuer(private, issuer="tangible").issue(tenant_id="t1", scopes=["read"])
    revocations = RevocationList()
    verifier = TokenVerifier(public, issuer="tangible", revocations=revocations)
    assert verifier.verify(issued.token) is verifier.verify(issued.token)  # the second from the cache
    revocations.add([issued.credential_id])
    with pytest.raises(Unauthenticated):
        verifier.verify(issued.token)
    with pytest.raises(Unauthenticated):
        verifier.verify(issued.token[:-2] + "xx")  # a forged signature is never served from the cache
