"""Browsers on the vendor's origins may call every service a portal token can call; other
origins get no CORS headers; credentials mode is never allowed (tokens travel in a header)."""

from __future__ import annotations

from typing import Any

import pytest

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.scenario import Clients, bearer, provision
from tangible_runtime.settings import CorsSettings

pytestmark = pytest.mark.integration

PORTAL = "https://portal.example"
ACCOUNT = "acct-cors"
# one route per service that a portal token calls from the components
ROUTES = {
    "entitlements": f"/v1/accounts/{ACCOUNT}/entitlements",
    "rewards": f"/v1/accounts/{ACCOUNT}/balance",
    "notifications": f"/v1/accounts/{ACCOUNT}/inbox",
    "usage-ingest": "/v1/events",
}


async def test_every_service_answers_the_vendors_origin_only(
    start_system: Any, issue_token: IssueToken, tenant_id: str, started_services: dict[str, Any]
) -> None:
    cors = {"cors": CorsSettings(allowed_origins=[PORTAL])}
    system: Clients = await start_system(overrides=dict.fromkeys(ROUTES, cors))
    admin = issue_token(tenant_id, "admin")
    await provision(system, admin, ACCOUNT)
    minted = await system.entitlements.post(
        "/v1/portal-tokens", json={"account_id": ACCOUNT}, headers=bearer(admin)
    )
    token = minted.json()["token"]
    for name, path in ROUTES.items():
        client = started_services[name].client
        method = "POST" if name == "usage-ingest" else "GET"
        preflight = await client.options(
            path,
            headers={
                "Origin": PORTAL,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert preflight.status_code == 200, (name, preflight.text)
        assert preflight.headers["access-control-allow-origin"] == PORTAL, name
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower(), name
        assert "access-control-allow-credentials" not in preflight.headers, name
        if method == "GET":
            # the check API's fast lane leaves browsers' calls to the route that adds CORS
            answer = await client.get(path, headers={**bearer(token), "Origin": PORTAL})
            assert answer.status_code == 200, (name, answer.text)
            assert answer.headers["access-control-allow-origin"] == PORTAL, name
        elsewhere = await client.get(path, headers={**bearer(token), "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in elsewhere.headers, name
