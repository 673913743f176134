"""Portal tokens: one account (and user), read-only, limited features, bulk invalidation."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from tangible_runtime.auth import (
    Forbidden,
    RevocationList,
    TokenIssuer,
    TokenVerifier,
    Unauthenticated,
    generate_keypair,
)


@pytest.fixture
def keys() -> tuple[str, str]:
    return generate_keypair()


def _pair(keys: tuple[str, str]) -> tuple[TokenIssuer, TokenVerifier, RevocationList]:
    revocations = RevocationList()
    verifier = TokenVerifier(keys[1], issuer="tangible", revocations=revocations)
    return TokenIssuer(keys[0], issuer="tangible"), verifier, revocations


def test_a_portal_token_reads_one_account_as_one_user_within_its_features(keys: tuple[str, str]) -> None:
    issuer, verifier, _ = _pair(keys)
    token = issuer.issue_portal(
        tenant_id="t1", account_id="a1", user_id="u1", features=["reports"], permissions=["redeem"]
    ).token
    principal = verifier.verify(token)
    assert (principal.kind, principal.account_id, principal.user_id) == ("portal", "a1", "u1")
    principal.require("read")
    principal.require_account("a1")
    principal.require_user("u1")
    principal.require_feature("reports")
    principal.require_permission("redeem")
    refusals: list[Callable[[], None]] = [
        lambda: principal.require("admin"),
        lambda: principal.require("ingest"),
        lambda: principal.require_account("a2"),
        lambda: principal.require_user("u2"),
        lambda: principal.require_feature("sso"),
    ]
    for refused in refusals:
        with pytest.raises(Forbidden):
            refused()
    plain = verifier.verify(issuer.issue_portal(tenant_id="t1", account_id="a1").token)
    with pytest.raises(Forbidden, match="redeem"):
        plain.require_permission("redeem")
    assert plain.sees_feature("anything") and plain.user_id is None


def test_invalidation_refuses_older_portal_tokens_of_the_account_or_tenant_only(
    keys: tuple[str, str],
) -> None:
    issuer, verifier, revocations = _pair(keys)
    a1 = issuer.issue_portal(tenant_id="t1", account_id="a1").token
    a2 = issuer.issue_portal(tenant_id="t1", account_id="a2").token
    other_tenant = issuer.issue_portal(tenant_id="t2", account_id="a1").token
    api_key = issuer.issue(tenant_id="t1", scopes=["read"], account_id="a1").token
    for token in (a1, a2, other_tenant, api_key):
        verifier.verify(token)  # remembered: invalidation must apply to cached tokens too
    revocations.invalidate_portal_tokens("t1", "a1", time.time())
    with pytest.raises(Unauthenticated, match="invalidated"):
        verifier.verify(a1)
    verifier.verify(a2), verifier.verify(other_tenant), verifier.verify(api_key)
    fresh = issuer.issue_portal(tenant_id="t1", account_id="a1").token  # minted right after
    assert verifier.verify(fresh).account_id == "a1"
    revocations.invalidate_portal_tokens("t1", None, time.time())
    for token in (a2, fresh):
        with pytest.raises(Unauthenticated, match="invalidated"):
            verifier.verify(token)
    verifier.verify(other_tenant), verifier.verify(api_key)
    revocations.invalidate_portal_tokens("t1", "a1", 0.0)  # an older cut-off never widens
    with pytest.raises(Unauthenticated):
        verifier.verify(a1)


def test_a_portal_claim_on_a_wider_scope_is_not_a_valid_credential(keys: tuple[str, str]) -> None:
    """Claims are signed, but the verifier still refuses shapes the issuer never makes."""
    from cryptography.hazmat.primitives import serialization

    _, verifier, _ = _pair(keys)
    private = serialization.load_pem_private_key(keys[0].encode(), password=None)
    now = datetime.now(UTC)
    base = {"iss": "tangible", "sub": "t1", "jti": "x", "iat": now, "exp": now + timedelta(hours=1)}
    for claims in (
        {**base, "scp": ["admin"], "acc": "a1", "knd": "portal"},
        {**base, "scp": ["read"], "knd": "portal"},  # no account
        {**base, "scp": ["read"], "acc": "a1", "knd": "root"},
        {**base, "scp": ["read"], "acc": "a1", "knd": "portal", "ftr": "reports"},
    ):
        token = jwt.encode(claims, private, algorithm="EdDSA")  # type: ignore[arg-type]
        with pytest.raises(Unauthenticated, match="not valid"):
            verifier.verify(token)


def test_unknown_permissions_are_not_issued(keys: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="permissions"):
        TokenIssuer(keys[0], issuer="tangible").issue_portal(
            tenant_id="t1", account_id="a1", permissions=["admin"]
        )
