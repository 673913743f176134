"""Early usage is parked, not dropped: a tenant onboarded in the wrong order (usage first, its
licenses an hour later) ends with exactly the counters, thresholds, milestones, credits and
cohorts of a tenant onboarded in the right order with the same usage; and an event older
than the parking window is dead-lettered as parking_window_exceeded, visible over HTTP.

Rewards needs no parking: it evaluates usage whether or not it knows a license, which the
equal milestones and credits of the two tenants show."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tangible_devstack.scenario import Clients, term_around
from tangible_devstack.testing import eventually

pytestmark = pytest.mark.integration
THRESHOLD = "tangible.entitlements.v1.threshold_crossed"
ACCOUNTS = [f"acct-{k}" for k in range(1, 6)]  # acct-k sends k reports: a cohort of five


async def _call(client: httpx.AsyncClient, method: str, path: str, token: str, body: Any = None) -> Any:
    response = await client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


async def _catalog(system: Clients, admin: str) -> None:
    """What a vendor sets up before any account: the feature, the plan, a milestone, a rule."""
    e, r, n = system.entitlements, system.rewards, system.notifications
    meter = {"event_type": "report.generated", "aggregation": "count", "reset_period": "month"}
    feature = {"key": "reports", "name": "Reports", "kind": "metered", "meter": meter, "outcome": "Reports"}
    await _call(e, "POST", "/v1/features", admin, feature)
    plan = {"key": "starter", "name": "Starter", "features": {"reports": {"limit": 2}}}
    await _call(e, "POST", "/v1/plans", admin, plan)
    await _call(e, "POST", "/v1/plans/starter/versions/1/publish", admin)
    milestone = {
        "key": "two-reports",
        "name": "Two reports",
        "kind": "usage_threshold",
        "params": {"usage_type": "report.generated", "target": 2},
        "reward": {"kind": "credits", "credits": "100"},
    }
    await _call(r, "POST", "/v1/milestones", admin, milestone)
    await _call(n, "PUT", "/v1/settings", admin, {"inbox_enabled": True})
    rule = {"name": "t", "event_types": [THRESHOLD], "channels": ["inbox"]}
    await _call(n, "POST", "/v1/rules", admin, rule)


async def _licenses(system: Clients, admin: str) -> None:
    start, end = term_around(datetime.now(UTC))
    for account in ACCOUNTS:
        body = {"account_id": account, "plan_key": "starter", "term_start": start, "term_end": end}
        await _call(system.entitlements, "POST", "/v1/licenses", admin, body)


async def _usage(system: Clients, ingest: str, times: list[datetime]) -> None:
    events = [
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "app://reports",
            "type": "report.generated",
            "subject": account,
            "time": times[i].isoformat(),
            "data": {"quantity": 1, "user_id": f"user-{k}"},
        }
        for k, account in enumerate(ACCOUNTS, start=1)
        for i in range(k)
    ]
    response = await system.ingest.post(
        "/v1/events",
        json=events,
        headers={"Authorization": f"Bearer {ingest}", "Content-Type": "application/cloudevents-batch+json"},
    )
    assert response.status_code == 202 and response.json()["accepted"] == len(events), response.text


async def _state(system: Clients, admin: str, today: datetime) -> dict[str, Any]:
    """Everything the two orders must agree on, per account, as the APIs show it."""
    span = f"from={(today - timedelta(days=2)).date()}&to={(today + timedelta(days=1)).date()}"
    state: dict[str, Any] = {}
    for account in ACCOUNTS:
        check = await _call(system.entitlements, "GET", f"/v1/accounts/{account}/entitlements/reports", admin)
        report = await _call(system.entitlements, "GET", f"/v1/accounts/{account}/usage?{span}", admin)
        rewards = await _call(system.rewards, "GET", f"/v1/accounts/{account}/rewards", admin)
        progress = await _call(system.rewards, "GET", f"/v1/accounts/{account}/progress", admin)
        balance = await _call(system.rewards, "GET", f"/v1/accounts/{account}/balance", admin)
        inbox = await _call(system.notifications, "GET", f"/v1/accounts/{account}/inbox", admin)
        state[account] = {
            "counter": (check["usage"], check["limit"], check["period_start"]),
            "report": [(f["feature_key"], f["total"], f["series"], f["cohort"]) for f in report["features"]],
            # granted when consumed (recent usage is not backdated): compared by milestone
            "milestones": sorted(x["rule_key"] for x in rewards["rewards"]),
            "progress": sorted((m["rule_key"], m["current"]) for m in progress["milestones"]),
            "credits": balance,
            "thresholds": sorted(item["title"] for item in inbox["items"]),
        }
    return state


async def test_usage_before_the_license_ends_as_if_the_license_had_come_first(
    start_system: Callable[..., Any], issue_token: Callable[..., str], tenant_id: str
) -> None:
    system: Clients = await start_system()
    wrong, right = tenant_id, f"{tenant_id}-right"
    admin = {t: issue_token(t, "admin") for t in (wrong, right)}
    now = datetime.now(UTC).replace(microsecond=0)
    times = [now - timedelta(hours=1, minutes=i) for i in range(len(ACCOUNTS))]  # an hour before
    for tenant in (wrong, right):
        await _catalog(system, admin[tenant])

    # the wrong order: usage first, parked; the licenses after
    await _usage(system, issue_token(wrong, "ingest"), times)

    async def parked() -> None:
        page = await _call(system.entitlements, "GET", "/v1/parked-usage", admin[wrong])
        assert page["total"] == 15, page

    await eventually(parked, timeout=30)
    await _licenses(system, admin[wrong])
    # the right order, with the same usage
    await _licenses(system, admin[right])
    await _usage(system, issue_token(right, "ingest"), times)

    async def settled() -> dict[str, Any]:
        mine, theirs = await _state(system, admin[wrong], now), await _state(system, admin[right], now)
        assert mine == theirs, (mine, theirs)
        assert [mine[a]["counter"][0] for a in ACCOUNTS] == [1, 2, 3, 4, 5]
        assert any(mine[a]["milestones"] for a in ACCOUNTS)
        assert all(mine[a]["thresholds"] for a in ACCOUNTS)  # every account crossed 50 % at least
        assert all(f[3] is not None for a in ACCOUNTS for f in mine[a]["report"])  # cohorts shown
        return mine

    await eventually(settled, timeout=45)
    assert (await _call(system.entitlements, "GET", "/v1/parked-usage", admin[wrong]))["total"] == 0


async def test_usage_older_than_the_parking_window_is_dead_lettered_and_visible(
    start_system: Callable[..., Any], issue_token: Callable[..., str], tenant_id: str
) -> None:
    system: Clients = await start_system()
    admin = issue_token(tenant_id, "admin")
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=31)  # the window: 30 days
    event = {
        "specversion": "1.0",
        "id": "too-old",
        "source": "app://reports",
        "type": "report.generated",
        "subject": "acct-late",
        "time": old.isoformat(),
    }
    await _call(system.ingest, "POST", "/v1/events", issue_token(tenant_id, "ingest"), event)

    async def dead_lettered() -> list[dict[str, Any]]:
        page = await _call(system.entitlements, "GET", "/v1/dead-letters/entitlements-usage", admin)
        assert [i["reason"] for i in page["items"]] == ["parking_window_exceeded"], page
        return list(page["items"])

    [item] = await eventually(dead_lettered, timeout=30)
    record = await _call(
        system.entitlements, "GET", f"/v1/dead-letters/entitlements-usage/records/{item['id']}", admin
    )
    assert record["value"]["account_id"] == "acct-late"
    assert (await _call(system.entitlements, "GET", "/v1/parked-usage", admin))["total"] == 0
