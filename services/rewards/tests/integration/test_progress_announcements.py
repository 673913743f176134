"""Kept progress and the database's announcements (migration 0006): a replica that hears them
keeps an account's progress past the half second it would keep it otherwise, and drops it as
soon as any commit (here, statements run straight on the database, as no service wrote them)
changes what progress is read from: the account's counters, or the tenant's rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tangible_devstack.testing import eventually, running, wait_ready
from tangible_rewards.bootstrap import bootstrap
from tangible_rewards.config import Settings
from tangible_rewards.service_layer.live_view import LiveView
from tangible_runtime.domain import ManualClock

pytestmark = pytest.mark.integration

ACCOUNT = "acct-announced"
OTHER = "acct-quiet"
RULE = {
    "key": "three-reports",
    "name": "Three reports",
    "kind": "usage_threshold",
    "params": {"usage_type": "report.generated", "target": 3},
    "reward": {"kind": "credits", "credits": "7"},
}


@pytest.fixture
async def api(
    rewards_settings: Settings, clock: ManualClock
) -> AsyncIterator[tuple[httpx.AsyncClient, LiveView]]:
    # progress kept 0.5 s unless announcements are heard; while heard, an hour at most here,
    # so that only announcements and time's own moments drop it
    settings = rewards_settings.model_copy(update={"listening_progress_max_age_seconds": 3600})
    app: FastAPI = bootstrap(settings, roles=("api",), clock=clock, configure_logs=False)
    async with running(app) as client:
        await wait_ready(client)
        view: LiveView = app.state.container.view

        async def listening() -> None:
            assert view.listening

        await eventually(listening, timeout=10)
        yield client, view


async def current(client: httpx.AsyncClient, headers: dict[str, str], account: str) -> list[float]:
    response = await client.get(f"/v1/accounts/{account}/progress", headers=headers)
    assert response.status_code == 200, response.text
    return [m["current"] for m in response.json()["milestones"]]


async def read_and_kept(
    client: httpx.AsyncClient,
    view: LiveView,
    headers: dict[str, str],
    tenant_id: str,
    clock: ManualClock,
    account: str,
) -> None:
    """Read until the view keeps the answer: the announcement of the rule's own commit may
    arrive after the first read and drop it, as it should."""

    async def kept() -> None:
        assert await current(client, headers, account) == [0.0]
        assert view.progress(tenant_id, account, clock.now()) is not None

    await eventually(kept, timeout=5, interval=0.05)


async def rule_and_both_accounts_kept(
    client: httpx.AsyncClient, view: LiveView, headers: dict[str, str], tenant_id: str, clock: ManualClock
) -> None:
    assert (await client.post("/v1/milestones", json=RULE, headers=headers)).status_code == 201
    for account in (ACCOUNT, OTHER):
        await read_and_kept(client, view, headers, tenant_id, clock, account)


async def test_a_commit_on_the_account_drops_its_kept_progress_and_only_its(
    api: tuple[httpx.AsyncClient, LiveView],
    admin: dict[str, str],
    tenant_id: str,
    clock: ManualClock,
    db: Any,
) -> None:
    client, view = api
    await rule_and_both_accounts_kept(client, view, admin, tenant_id, clock)
    clock.advance(timedelta(seconds=5))  # well past the half second of a replica that does not listen
    assert view.progress(tenant_id, ACCOUNT, clock.now()) is not None

    [series] = await db.rows("SELECT series FROM milestone_rules WHERE key = 'three-reports'")
    await db.execute(
        "INSERT INTO progress (tenant_id, account_id, series, period_key, value) "
        "VALUES (:t, :a, :s, 'lifetime', 2)",
        t=tenant_id,
        a=ACCOUNT,
        s=series[0],
    )

    async def dropped() -> None:
        assert view.progress(tenant_id, ACCOUNT, clock.now()) is None

    await eventually(dropped, timeout=1.0, interval=0.01)
    assert await current(client, admin, ACCOUNT) == [2.0]
    assert view.progress(tenant_id, OTHER, clock.now()) is not None  # not named: still kept


async def test_a_rule_change_drops_every_account_of_the_tenant(
    api: tuple[httpx.AsyncClient, LiveView],
    admin: dict[str, str],
    tenant_id: str,
    clock: ManualClock,
    db: Any,
) -> None:
    client, view = api
    await rule_and_both_accounts_kept(client, view, admin, tenant_id, clock)
    await db.execute("UPDATE milestones SET enabled = false WHERE tenant_id = :t", t=tenant_id)

    async def dropped() -> None:
        assert view.progress(tenant_id, ACCOUNT, clock.now()) is None
        assert view.progress(tenant_id, OTHER, clock.now()) is None

    await eventually(dropped, timeout=1.0, interval=0.01)
    assert await current(client, admin, OTHER) == []


async def test_progress_is_kept_no_longer_than_the_next_quarter_hour(
    api: tuple[httpx.AsyncClient, LiveView], admin: dict[str, str], tenant_id: str, clock: ManualClock
) -> None:
    """A new local day may begin at any quarter hour of UTC; progress read before it is not
    answered after it (the clock here is manual: no event, no write)."""
    client, view = api
    assert (await client.post("/v1/milestones", json=RULE, headers=admin)).status_code == 201
    await read_and_kept(client, view, admin, tenant_id, clock, ACCOUNT)
    now = clock.now()
    boundary = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    seconds_left = (boundary - now).total_seconds() + 900
    clock.advance(timedelta(seconds=seconds_left - 1))
    assert view.progress(tenant_id, ACCOUNT, clock.now()) is not None
    clock.advance(timedelta(seconds=1))
    assert view.progress(tenant_id, ACCOUNT, clock.now()) is None


class Heard:
    """A LISTEN of the test's own on the announcements channel."""

    def __init__(self) -> None:
        self.payloads: list[str] = []

    def __call__(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        self.payloads.append(payload)

    @property
    def lines(self) -> set[str]:
        return {line for payload in self.payloads for line in payload.split("\n")}


async def test_announcements_fit_notify_whatever_the_ids_and_name_every_row_moved_or_emptied(
    db: Any, tenant_id: str
) -> None:
    """Long ids in one statement (PostgreSQL refuses a payload of 8,000 bytes, which would
    fail the write itself), an UPDATE that moves rows to another account (both named), and a
    TRUNCATE (no rows to name: everything)."""
    heard = Heard()
    async with db.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        await driver.add_listener("tangible_rewards_progress", heard)
        accounts = [f"{n:03d}-" + "é" * 250 for n in range(150)]  # 256 characters, 500+ bytes each
        await db.execute(
            "INSERT INTO progress (tenant_id, account_id, series, period_key, value) "
            "SELECT :t, a, 's', 'lifetime', 1 FROM unnest(CAST(:accounts AS text[])) AS a",
            t=tenant_id,
            accounts=accounts,
        )
        await db.execute(
            "UPDATE progress SET account_id = 'moved' WHERE tenant_id = :t AND account_id = :a",
            t=tenant_id,
            a=accounts[0],
        )
        await db.execute("TRUNCATE progress")

        async def all_heard() -> None:
            assert {f"{tenant_id}\t{a}" for a in accounts} | {f"{tenant_id}\tmoved", "*"} <= heard.lines

        await eventually(all_heard, timeout=5, interval=0.05)
        assert max(len(p.encode()) for p in heard.payloads) < 8000
        assert len(heard.payloads) >= 150 * 500 // 8000  # chunked, not one per row
        await driver.remove_listener("tangible_rewards_progress", heard)
