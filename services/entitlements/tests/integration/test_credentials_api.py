"""The tenant's credentials over HTTP: API keys, and portal tokens for its customers."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from tangible_devstack.testing import eventually

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_of(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified (the services verify; this only reads `iat` and `exp`)."""
    payload = token.split(".")[1]
    return dict(orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def status_of(h: Any, method: str, path: str, token: str, body: Any = None) -> int:
    response: httpx.Response = await h.client.request(method, path, json=body, headers=bearer(token))
    return response.status_code


async def test_an_admin_creates_lists_and_revokes_api_keys_without_the_platform_key(service: Any) -> None:
    h = service
    await h.provision()
    created = await h.call(
        "POST", "/v1/credentials", {"name": "billing backend", "scopes": ["read"]}, status=201
    )
    assert created["status"] == "active" and created["scopes"] == ["read"] and created["token"]
    key = created["token"]
    assert await status_of(h, "GET", "/v1/accounts/acct-1/entitlements/reports", key) == 200
    assert (
        await status_of(h, "POST", "/v1/features", key, {"key": "x", "name": "X", "kind": "boolean"}) == 403
    )

    listed = await h.call("GET", "/v1/credentials")
    [entry] = [c for c in listed["items"] if c["id"] == created["id"]]
    assert entry["name"] == "billing backend" and "token" not in entry
    assert key not in str(listed)  # metadata only, never the secret

    revoked = await h.call("POST", f"/v1/credentials/{created['id']}/revoke")
    assert revoked["status"] == "revoked" and revoked["revoked_by"].startswith("credential:")

    async def refused() -> None:  # through the outbox, the topic and this replica's follower
        assert await status_of(h, "GET", "/v1/accounts/acct-1/entitlements/reports", key) == 401

    await eventually(refused, timeout=10)
    missing = await h.call("POST", "/v1/credentials/nope/revoke", status=404)
    assert missing["type"].endswith("/credential-not-found")
    wrong = {"name": "x", "scopes": ["root"]}
    assert (await h.client.post("/v1/credentials", json=wrong, headers=h.headers())).status_code == 422


async def test_portal_tokens_read_one_account_within_their_features_and_die_on_invalidation(
    service: Any,
) -> None:
    h = service
    await h.provision()
    license = {
        "account_id": "acct-2",
        "plan_key": "starter",
        "term_start": "2026-01-01",
        "term_end": "2027-01-01",
    }
    await h.call("POST", "/v1/licenses", license)
    portal_key = (await h.call("POST", "/v1/credentials", {"name": "portal", "scopes": ["portal"]}))["token"]
    minted = await h.client.post(
        "/v1/portal-tokens",
        json={"account_id": "acct-1", "user_id": "u-1", "features": ["reports"], "ttl_seconds": 600},
        headers=bearer(portal_key),
    )
    assert minted.status_code == 201, minted.text
    token = minted.json()["token"]
    assert minted.json()["user_id"] == "u-1" and minted.json()["features"] == ["reports"]

    async def visible() -> None:
        assert await status_of(h, "GET", "/v1/accounts/acct-1/entitlements/reports", token) == 200

    await eventually(visible)
    listed = await h.client.get("/v1/accounts/acct-1/entitlements", headers=bearer(token))
    assert [e["feature_key"] for e in listed.json()["entitlements"]] == ["reports"]
    assert await status_of(h, "GET", "/v1/accounts/acct-1/entitlements/sso", token) == 403
    assert await status_of(h, "GET", "/v1/accounts/acct-2/entitlements/reports", token) == 403
    assert await status_of(h, "GET", "/v1/credentials", token) == 403
    assert await status_of(h, "POST", "/v1/portal-tokens", token, {"account_id": "acct-1"}) == 403
    # the portal key mints, and only mints: it reads nothing itself
    assert await status_of(h, "GET", "/v1/accounts/acct-1/entitlements/reports", portal_key) == 403
    read_key = h.headers("read")["Authorization"].removeprefix("Bearer ")
    assert await status_of(h, "POST", "/v1/portal-tokens", read_key, {"account_id": "acct-1"}) == 403
    too_long = {"account_id": "acct-1", "ttl_seconds": 86_401}
    assert await status_of(h, "POST", "/v1/portal-tokens", portal_key, too_long) == 422

    other = (await h.call("POST", "/v1/portal-tokens", {"account_id": "acct-2"}, status=201))["token"]
    invalidated = await h.client.post(
        "/v1/portal-tokens/invalidate", json={"account_id": "acct-1"}, headers=bearer(portal_key)
    )
    assert invalidated.status_code == 202, invalidated.text

    async def dead() -> None:
        assert await status_of(h, "GET", "/v1/accounts/acct-1/entitlements/reports", token) == 401

    await eventually(dead, timeout=2)  # the promise: within 2 s in every service that follows
    assert await status_of(h, "GET", "/v1/accounts/acct-2/entitlements/reports", other) == 200
    fresh = (await h.call("POST", "/v1/portal-tokens", {"account_id": "acct-1"}))["token"]
    assert await status_of(h, "GET", "/v1/accounts/acct-1/entitlements/reports", fresh) == 200

    await h.call("POST", "/v1/portal-tokens/invalidate", {}, status=202)  # the whole tenant's

    async def all_dead() -> None:
        for old in (other, fresh):
            assert await status_of(h, "GET", "/v1/accounts/acct-1/entitlements/reports", old) in (401, 403)
        assert await status_of(h, "GET", "/v1/accounts/acct-2/entitlements/reports", other) == 401

    await eventually(all_dead, timeout=2)
    assert await status_of(h, "GET", "/v1/accounts/acct-1/entitlements/reports", portal_key) == 403  # a key


async def test_a_portal_token_lives_one_hour_by_default(service: Any) -> None:
    h = service
    await h.provision()
    asked_at = datetime.now(UTC)
    minted = await h.call("POST", "/v1/portal-tokens", {"account_id": "acct-1"}, status=201)
    claims = claims_of(minted["token"])
    assert 3599 < claims["exp"] - claims["iat"] <= 3600  # `exp` is whole seconds, `iat` is not
    assert claims["knd"] == "portal" and claims["acc"] == "acct-1" and claims["scp"] == ["read"]
    expires_at = datetime.fromisoformat(minted["expires_at"])
    assert abs(expires_at - datetime.fromtimestamp(claims["exp"], UTC)) < timedelta(seconds=1)
    assert timedelta(minutes=59) < expires_at - asked_at <= timedelta(hours=1, seconds=5)
    longest = await h.call("POST", "/v1/portal-tokens", {"account_id": "acct-1", "ttl_seconds": 86_400})
    longest_claims = claims_of(longest["token"])
    assert 86_399 < longest_claims["exp"] - longest_claims["iat"] <= 86_400  # the maximum, 24 h


async def test_an_api_key_with_an_expiry_is_refused_once_it_has_passed(harness: Any) -> None:
    """Keys take an optional `expires_at`; past it, the key is refused (401) and listed as
    expired. Run without the verifier's clock-skew leeway so the test waits seconds, not 30."""
    h = harness
    h.settings = h.settings.model_copy(
        update={"auth": h.settings.auth.model_copy(update={"leeway_seconds": 0})}
    )
    async with h.run():
        await h.provision()
        past = {
            "name": "late",
            "scopes": ["read"],
            "expires_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        }
        assert (await h.client.post("/v1/credentials", json=past, headers=h.headers())).status_code == 422

        soon = datetime.now(UTC) + timedelta(seconds=3)
        created = await h.call(
            "POST",
            "/v1/credentials",
            {"name": "short-lived", "scopes": ["read"], "expires_at": soon.isoformat()},
        )
        assert created["status"] == "active"
        assert abs(datetime.fromisoformat(created["expires_at"]) - soon) < timedelta(seconds=1)
        key, path = created["token"], "/v1/accounts/acct-1/entitlements/reports"
        assert await status_of(h, "GET", path, key) == 200

        async def refused() -> None:
            assert await status_of(h, "GET", path, key) == 401

        await eventually(refused, timeout=10)
        assert datetime.now(UTC) >= soon - timedelta(seconds=1)  # not refused before its time

        async def listed_as_expired() -> None:  # the token's `exp` is whole seconds: up to 1 s sooner
            listed = await h.call("GET", "/v1/credentials")
            [entry] = [c for c in listed["items"] if c["id"] == created["id"]]
            assert entry["status"] == "expired"

        await eventually(listed_as_expired, timeout=3)
