"""Invalidating portal tokens — an account's, then a whole tenant's — takes effect in every
service within 2 s (the issue's promise: a deadline for the wait, not a measurement), and
spares what it does not name: another account's tokens, tokens minted afterwards, API keys.

Each service learns of it from `tangible.credentials.v1` (entitlements publishes the
cut-off); usage-ingest takes no portal token at all (403, a read token cannot ingest), and
after the cut-off it refuses the token itself (401), as the others do."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.scenario import Clients, bearer, provision, term_around
from tangible_devstack.testing import eventually

pytestmark = pytest.mark.integration

ACCOUNT, OTHER = "acct-inv", "acct-inv-other"
DEADLINE = 2.0  # seconds, from the invalidation's answer to every service refusing


async def _answers(system: Clients, token: str, account: str) -> dict[str, int]:
    """The status each service gives the token on a route a customer's page calls."""
    headers = bearer(token)
    calls = {
        # no Origin, no query: the check fast lane answers this one in entitlements
        "entitlements": system.entitlements.get(f"/v1/accounts/{account}/entitlements", headers=headers),
        "rewards": system.rewards.get(f"/v1/accounts/{account}/balance", headers=headers),
        "notifications": system.notifications.get(f"/v1/accounts/{account}/inbox", headers=headers),
        "usage-ingest": system.ingest.post("/v1/events", json=[], headers=headers),
    }
    responses: list[httpx.Response] = await asyncio.gather(*calls.values())
    return {name: r.status_code for name, r in zip(calls, responses, strict=True)}


ACCEPTED = {"entitlements": 200, "rewards": 200, "notifications": 200, "usage-ingest": 403}
REFUSED = dict.fromkeys(ACCEPTED, 401)


async def _mint(system: Clients, key: str, account: str) -> str:
    response = await system.entitlements.post(
        "/v1/portal-tokens", json={"account_id": account}, headers=bearer(key)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


async def _within_the_deadline(answers: Callable[[], Awaitable[dict[str, int]]]) -> None:
    """Every service refuses within DEADLINE; if one is late, the failure says by how much
    (polling on, up to 20 s) instead of only that it was late."""
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def refused() -> None:
        assert await answers() == REFUSED

    try:
        await eventually(refused, timeout=DEADLINE, interval=0.05)
    except AssertionError as late:
        refused_after: dict[str, float] = {}
        while len(refused_after) < len(REFUSED) and loop.time() - started < 20:
            for name, status in (await answers()).items():
                if status == 401:
                    refused_after.setdefault(name, round(loop.time() - started, 2))
            await asyncio.sleep(0.05)
        raise AssertionError(f"not all refused within {DEADLINE} s; refused after: {refused_after}") from late


async def _refused_everywhere_within_the_deadline(system: Clients, tokens: dict[str, str]) -> None:
    async def answers() -> dict[str, int]:
        every = [await _answers(system, token, account) for account, token in tokens.items()]
        # per service: the first token's status that is not a refusal, else 401
        return {name: next((a[name] for a in every if a[name] != 401), 401) for name in REFUSED}

    await _within_the_deadline(answers)


async def test_invalidating_portal_tokens_takes_effect_in_every_service(
    start_system: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    system: Clients = await start_system()
    admin = issue_token(tenant_id, "admin")
    await provision(system, admin, ACCOUNT)
    term_start, term_end = term_around(datetime.now(UTC))
    license = {"account_id": OTHER, "plan_key": "starter", "term_start": term_start, "term_end": term_end}
    licensed = await system.entitlements.post("/v1/licenses", json=license, headers=bearer(admin))
    assert licensed.status_code == 201, licensed.text
    # the vendor's backend holds a key that may only mint portal tokens
    created = await system.entitlements.post(
        "/v1/credentials", json={"name": "portal backend", "scopes": ["portal"]}, headers=bearer(admin)
    )
    assert created.status_code == 201, created.text
    key = created.json()["token"]
    mine, theirs = await _mint(system, key, ACCOUNT), await _mint(system, key, OTHER)
    assert await _answers(system, mine, ACCOUNT) == ACCEPTED
    assert await _answers(system, theirs, OTHER) == ACCEPTED

    # one account's portal tokens
    invalidated = await system.entitlements.post(
        "/v1/portal-tokens/invalidate", json={"account_id": ACCOUNT}, headers=bearer(key)
    )
    assert invalidated.status_code == 202, invalidated.text
    await _refused_everywhere_within_the_deadline(system, {ACCOUNT: mine})
    problem = await system.rewards.get(f"/v1/accounts/{ACCOUNT}/balance", headers=bearer(mine))
    assert problem.headers["content-type"].startswith("application/problem+json")
    assert "invalidated" in problem.text
    assert await _answers(system, theirs, OTHER) == ACCEPTED  # another account's: untouched
    fresh = await _mint(system, key, ACCOUNT)  # minted after the cut-off: valid
    assert await _answers(system, fresh, ACCOUNT) == ACCEPTED

    # the whole tenant's
    invalidated = await system.entitlements.post(
        "/v1/portal-tokens/invalidate", json={}, headers=bearer(admin)
    )
    assert invalidated.status_code == 202, invalidated.text
    await _refused_everywhere_within_the_deadline(system, {ACCOUNT: fresh, OTHER: theirs})
    # API keys are not portal tokens: the tenant's own read key still reads
    read = issue_token(tenant_id, "read")
    assert (
        await system.rewards.get(f"/v1/accounts/{OTHER}/balance", headers=bearer(read))
    ).status_code == 200
    assert await _answers(system, await _mint(system, key, OTHER), OTHER) == ACCEPTED


async def test_an_api_key_revoked_over_http_is_refused_by_every_service(
    start_system: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    """`POST /v1/credentials/{id}/revoke` on entitlements: rewards, notifications and
    usage-ingest follow `tangible.credentials.v1` and refuse the key (401) within moments."""
    system: Clients = await start_system()
    admin = issue_token(tenant_id, "admin")
    await provision(system, admin, ACCOUNT)
    keys = {}
    for scope in ("read", "ingest"):
        created = await system.entitlements.post(
            "/v1/credentials", json={"name": f"{scope} key", "scopes": [scope]}, headers=bearer(admin)
        )
        assert created.status_code == 201, created.text
        keys[scope] = created.json()

    async def answers() -> dict[str, int]:
        read, ingest = bearer(keys["read"]["token"]), bearer(keys["ingest"]["token"])
        calls = {
            "entitlements": system.entitlements.get(f"/v1/accounts/{ACCOUNT}/entitlements", headers=read),
            "rewards": system.rewards.get(f"/v1/accounts/{ACCOUNT}/balance", headers=read),
            "notifications": system.notifications.get(f"/v1/accounts/{ACCOUNT}/inbox", headers=read),
            "usage-ingest": system.ingest.post(
                "/v1/events",
                json=event,
                headers={**ingest, "Content-Type": "application/cloudevents+json"},
            ),
        }
        responses: list[httpx.Response] = await asyncio.gather(*calls.values())
        return {name: r.status_code for name, r in zip(calls, responses, strict=True)}

    event = {
        "specversion": "1.0",
        "id": "evt-before-revocation",
        "source": "app://reports",
        "type": "report.generated",
        "subject": ACCOUNT,
        "data": {"quantity": 1},
    }
    assert await answers() == {"entitlements": 200, "rewards": 200, "notifications": 200, "usage-ingest": 202}
    for key in keys.values():
        revoked = await system.entitlements.post(f"/v1/credentials/{key['id']}/revoke", headers=bearer(admin))
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked", revoked.text

    await _within_the_deadline(answers)
    # the tenant's other credentials are untouched
    assert (
        await system.rewards.get(f"/v1/accounts/{ACCOUNT}/balance", headers=bearer(admin))
    ).status_code == 200
