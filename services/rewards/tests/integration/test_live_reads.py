"""Balance and progress from a replica's in-memory view: a change made through another
replica (or granted by the consumer) shows within a second, an account the view never read
is answered from the database, neither tenants nor account-scoped tokens cross, and the
service's own HTTP protocol answers a kept read before any ASGI call, as the app would."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.testing import eventually, running, serving, wait_ready
from tangible_rewards.bootstrap import bootstrap
from tangible_rewards.config import Settings
from tangible_rewards.entrypoints import fast_lane
from tangible_rewards.service_layer.live_view import LiveView
from tangible_runtime.domain import ManualClock

pytestmark = pytest.mark.integration

ACCOUNT = "acct-live"
FRESH = 1.0  # seconds: the freshness every replica promises

Replica = tuple[httpx.AsyncClient, LiveView]
Start = Callable[..., Awaitable[Replica]]


@pytest.fixture
async def replica(rewards_settings: Settings, clock: ManualClock) -> AsyncIterator[Start]:
    """`await replica(roles)` → a client of one more in-process replica, and its view."""
    stack = AsyncExitStack()

    async def start(roles: tuple[str, ...] = ("api",)) -> Replica:
        app: FastAPI = bootstrap(rewards_settings, roles=roles, clock=clock, configure_logs=False)
        client = await stack.enter_async_context(running(app))
        await wait_ready(client)
        view = app.state.container.view
        assert view is not None and view.live  # ready means following
        return client, view

    async with stack:
        yield start


async def adjust(
    client: httpx.AsyncClient, headers: dict[str, str], amount: str, account: str = ACCOUNT
) -> None:
    response = await client.post(
        f"/v1/accounts/{account}/adjustments", json={"amount": amount, "reason": "r"}, headers=headers
    )
    assert response.status_code == 201, response.text


async def total(client: httpx.AsyncClient, headers: dict[str, str], account: str = ACCOUNT) -> str:
    response = await client.get(f"/v1/accounts/{account}/balance", headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["total"])


async def within_a_second(probe: Callable[[], Awaitable[None]]) -> float:
    started = time.monotonic()
    await eventually(probe, timeout=FRESH, interval=0.02)
    return time.monotonic() - started


async def test_a_credit_change_made_elsewhere_shows_on_a_reading_replica_within_a_second(
    replica: Start, admin: dict[str, str], tenant_id: str, clock: ManualClock
) -> None:
    writer, _ = await replica(("api", "relay"))
    reader, view = await replica()
    await adjust(writer, admin, "10")
    assert await total(reader, admin) == "10.00"  # first read: the database

    async def kept() -> None:
        # a read that overlaps the adjustment's own event arriving is rightly not kept
        # (its ticket is voided), so the read after that event is the one the view keeps
        assert await total(reader, admin) == "10.00"
        assert view.balance(tenant_id, ACCOUNT, "credits", clock.now()) is not None

    await eventually(kept, timeout=10, interval=0.05)
    fast = await reader.get(f"/v1/accounts/{ACCOUNT}/balance", headers=admin)
    assert fast.content == view.balance(tenant_id, ACCOUNT, "credits", clock.now())  # the fast lane's
    regular = await reader.get(f"/v1/accounts/{ACCOUNT}/balance?unit=credits", headers=admin)
    assert (fast.content, fast.headers["content-type"]) == (regular.content, regular.headers["content-type"])
    assert fast.headers["vary"] == regular.headers["vary"] == "Origin"  # CORS is configured in tests

    await adjust(writer, admin, "5")

    async def shows() -> None:
        assert await total(reader, admin) == "15.00"

    await within_a_second(shows)


async def test_a_grant_by_the_consumer_shows_in_balance_and_progress_within_a_second(
    replica: Start, admin: dict[str, str], kafka: Any, make_usage: Any, db: Any
) -> None:
    worker, _ = await replica(("api", "consumer", "relay"))
    reader, _ = await replica()
    rule = {
        "key": "three-reports",
        "name": "Three reports",
        "kind": "usage_threshold",
        "params": {"usage_type": "report.generated", "target": 3},
        "reward": {"kind": "credits", "credits": "7"},
    }
    assert (await worker.post("/v1/milestones", json=rule, headers=admin)).status_code == 201
    progress = (await reader.get(f"/v1/accounts/{ACCOUNT}/progress", headers=admin)).json()
    assert [(m["rule_key"], m["reached"]) for m in progress["milestones"]] == [("three-reports", False)]
    assert await total(reader, admin) == "0.00"

    await kafka.send([make_usage(ACCOUNT) for _ in range(3)])

    async def granted() -> None:
        assert await db.scalar("SELECT count(*) FROM rewards WHERE account_id = :a", a=ACCOUNT) == 1

    await eventually(granted, timeout=30, interval=0.02)

    async def shows() -> None:
        assert await total(reader, admin) == "7.00"
        read = (await reader.get(f"/v1/accounts/{ACCOUNT}/progress", headers=admin)).json()
        assert [(m["current"], m["reached"]) for m in read["milestones"]] == [(3.0, True)]

    await within_a_second(shows)


async def test_an_account_the_view_never_read_is_answered_from_the_database(
    replica: Start, admin: dict[str, str], tenant_id: str, clock: ManualClock
) -> None:
    writer, _ = await replica(("api", "relay"))
    reader, view = await replica()
    await adjust(writer, admin, "3", account="acct-new")
    assert view.balance(tenant_id, "acct-new", "credits", clock.now()) is None
    assert await total(reader, admin, "acct-new") == "3.00"
    other_unit = await reader.get("/v1/accounts/acct-new/balance?unit=points", headers=admin)
    assert other_unit.json() == {"account_id": "acct-new", "unit": "points", "total": "0.00", "buckets": []}


async def test_tenants_and_account_scoped_tokens_never_read_each_others_answers(
    replica: Start, issue_token: IssueToken, tenant_id: str
) -> None:
    writer, _ = await replica(("api", "relay"))
    reader, _ = await replica()
    other_tenant = f"{tenant_id}-other"
    ours = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    theirs = {"Authorization": f"Bearer {issue_token(other_tenant, 'admin')}"}
    await adjust(writer, ours, "10")
    await adjust(writer, theirs, "20")
    for _ in range(2):  # the second round from memory
        assert await total(reader, ours) == "10.00"
        assert await total(reader, theirs) == "20.00"
    portal = {"Authorization": f"Bearer {issue_token(tenant_id, 'read', account_id=ACCOUNT)}"}
    assert await total(reader, portal) == "10.00"
    elsewhere = await reader.get("/v1/accounts/acct-elsewhere/balance", headers=portal)
    assert elsewhere.status_code == 403
    for read in ("balance", "progress"):
        anonymous = await reader.get(f"/v1/accounts/{ACCOUNT}/{read}")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"


async def test_the_service_protocol_answers_a_kept_read_in_its_parser_callback_as_the_app_does(
    replica: Start,
    admin: dict[str, str],
    issue_token: IssueToken,
    tenant_id: str,
    rewards_settings: Settings,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer, _ = await replica(("api", "relay"))
    await adjust(writer, admin, "10")
    asgi_calls: list[str] = []
    through_asgi = fast_lane.FastLane.__call__

    async def counted(lane: fast_lane.FastLane, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            asgi_calls.append(scope["path"])
        await through_asgi(lane, scope, receive, send)

    monkeypatch.setattr(fast_lane.FastLane, "__call__", counted)
    app = bootstrap(rewards_settings, roles=("api",), clock=clock, configure_logs=False)
    balance = f"/v1/accounts/{ACCOUNT}/balance"
    async with running(app) as in_process, serving(app) as base, httpx.AsyncClient(base_url=base) as over_tcp:
        await wait_ready(in_process)
        assert await total(in_process, admin) == "10.00"  # the database; the view keeps it
        kept = await in_process.get(balance, headers=admin)
        asgi_calls.clear()
        answered = await over_tcp.get(balance, headers=admin)
        assert asgi_calls == []  # answered before any ASGI call
        assert answered.status_code == 200 and answered.content == kept.content
        for name in ("content-type", "content-length", "vary"):
            assert answered.headers[name] == kept.headers[name], name
        portal = {"Authorization": f"Bearer {issue_token(tenant_id, 'read', account_id='acct-elsewhere')}"}
        for path, headers, status in [
            (f"{balance}?unit=credits", admin, 200),  # a query string: the route answers
            (balance, portal, 403),  # another account's token: the route's problem details
            (balance, {}, 401),
        ]:
            asgi_calls.clear()
            response = await over_tcp.get(path, headers=headers)
            assert response.status_code == status and asgi_calls == [path.partition("?")[0]], path
