"""Browsers on the vendor's origins may call every route a portal token can call, in all four
services; other origins get no CORS headers; credentials mode is never allowed (tokens travel
in a header, so no response ever pairs an allowed origin with credentials).

The routes are read from the services' own OpenAPI documents: a portal token carries the
`read` scope (and, with `redeem`, may redeem through a `read` route), so every operation
whose security names `read` is one a customer's page may call. A new such route is covered
without touching this test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.scenario import Clients, bearer, provision
from tangible_runtime.auth import TokenIssuer
from tangible_runtime.settings import CorsSettings

from .conftest import SERVICE_NAMES, StartedService

pytestmark = pytest.mark.integration

PORTAL = "https://portal.example"
ELSEWHERE = "https://evil.example"
ACCOUNT, OTHER = "acct-cors", "acct-cors-other"


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    scopes: tuple[str, ...]
    streams: bool

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    def url(self, account: str) -> str:
        """The path with the account, and placeholders elsewhere: a 404 carries CORS headers too."""
        path = self.path.replace("{account_id}", account)
        while "{" in path:
            start = path.index("{")
            path = path[:start] + "cors-x" + path[path.index("}", start) + 1 :]
        return path


def operations(started: dict[str, StartedService]) -> list[Operation]:
    found = []
    for name in SERVICE_NAMES:
        for path, item in started[name].app.openapi()["paths"].items():
            for method, operation in item.items():
                scopes = tuple(s for r in operation.get("security") or [] for s in r.get("bearer", []))
                if not scopes:
                    continue  # health, readiness, metrics: not for browsers
                content = operation.get("responses", {}).get("200", {}).get("content", {})
                found.append(Operation(name, method.upper(), path, scopes, "text/event-stream" in content))
    return found


async def preflight(client: httpx.AsyncClient, op: Operation, origin: str) -> httpx.Response:
    return await client.options(
        op.url(ACCOUNT),
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": op.method,
            # what the components send (the live stream's among them)
            "Access-Control-Request-Headers": "authorization, cache-control, content-type, last-event-id",
        },
    )


def assert_allows_the_portal(response: httpx.Response, where: str) -> None:
    assert response.headers.get("access-control-allow-origin") == PORTAL, (where, dict(response.headers))
    assert "access-control-allow-credentials" not in response.headers, where


async def test_every_route_a_portal_token_can_call_answers_the_vendors_origin_only(
    start_system: Any,
    issue_token: IssueToken,
    token_issuer: TokenIssuer,
    tenant_id: str,
    started_services: dict[str, StartedService],
) -> None:
    cors = {"cors": CorsSettings(allowed_origins=[PORTAL])}
    system: Clients = await start_system(overrides=dict.fromkeys(SERVICE_NAMES, cors))
    await provision(system, issue_token(tenant_id, "admin"), ACCOUNT)
    minted = await system.entitlements.post(
        "/v1/portal-tokens",
        json={"account_id": ACCOUNT, "permissions": ["redeem"]},
        headers=bearer(issue_token(tenant_id, "admin")),
    )
    assert minted.status_code == 201, minted.text
    token = minted.json()["token"]
    # an open stream never ends in process: a stream is called with an expired token and its
    # refusal read (a stream of the token's own account, like entitlements', opens for any
    # valid portal token)
    expired = token_issuer.issue_portal(
        tenant_id=tenant_id,
        account_id=OTHER,
        ttl=timedelta(hours=1),
        now=datetime.now(UTC) - timedelta(hours=2),
    ).token

    found = operations(started_services)
    portal = [op for op in found if "read" in op.scopes]
    # what the components call, in every service that serves customers' pages
    assert {op.service for op in portal} == {"entitlements", "rewards", "notifications"}
    assert any(op.method != "GET" for op in portal), "mark as read, preferences, redeem"

    for op in found:  # every route with a credential, the portal's and the others
        client = started_services[op.service].client
        answer = await preflight(client, op, PORTAL)
        assert answer.status_code == 200, (str(op), answer.text)
        assert_allows_the_portal(answer, str(op))
        assert op.method in answer.headers["access-control-allow-methods"], str(op)
        allowed = answer.headers["access-control-allow-headers"].lower()
        assert all(
            h in allowed for h in ("authorization", "cache-control", "content-type", "last-event-id")
        ), str(op)
        refused = await preflight(client, op, ELSEWHERE)
        assert "access-control-allow-origin" not in refused.headers, str(op)

    for op in portal:  # the actual calls: the browser may read the answer, even a refusal
        client = started_services[op.service].client
        own = expired if op.streams else token
        answer = await client.request(op.method, op.url(ACCOUNT), headers={**bearer(own), "Origin": PORTAL})
        assert answer.status_code < 500, (str(op), answer.text)
        assert_allows_the_portal(answer, str(op))
        elsewhere = await client.request(
            op.method, op.url(ACCOUNT), headers={**bearer(own), "Origin": ELSEWHERE}
        )
        assert "access-control-allow-origin" not in elsewhere.headers, str(op)

    # usage-ingest takes no portal token, yet a page on the vendor's origin gets its answer
    # (a 403 it can read, not an opaque CORS failure)
    ingest = [op for op in found if op.service == "usage-ingest" and "ingest" in op.scopes]
    assert {op.path for op in ingest} == {"/v1/events", "/v1/imports/events"}
    for op in ingest:
        answer = await started_services["usage-ingest"].client.post(
            op.path, json=[], headers={**bearer(token), "Origin": PORTAL}
        )
        assert 400 <= answer.status_code < 500, answer.text
        assert_allows_the_portal(answer, str(op))
