"""One usage event travels ingest → Kafka → entitlements, rewards → Kafka → notifications.

Every hop is real: HTTP into usage-ingest, Apache Kafka between services, PostgreSQL
behind each, outbox relays publishing the derived events.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.testing import eventually

pytestmark = pytest.mark.integration

ACCOUNT = "acct-e2e"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def provision(system: Any, admin: dict[str, str]) -> None:
    """A metered feature with a limit of 2, a milestone at 1 report, an inbox rule."""
    steps: list[tuple[httpx.AsyncClient, str, dict[str, Any]]] = [
        (
            system.entitlements,
            "/v1/features",
            {
                "key": "reports",
                "name": "Reports",
                "kind": "metered",
                "meter": {"event_type": "report.generated", "aggregation": "count", "reset_period": "month"},
                "outcome": "Board-ready reports in one click",
                "impact_metric": "hours saved",
                "impact_per_unit": 0.25,
            },
        ),
        (
            system.entitlements,
            "/v1/plans",
            {"key": "starter", "name": "Starter", "features": {"reports": {"limit": 2}}},
        ),
        (system.entitlements, "/v1/plans/starter/versions/1/publish", {}),
        (
            system.entitlements,
            "/v1/licenses",
            {
                "account_id": ACCOUNT,
                "plan_key": "starter",
                "term_start": "2026-01-01",
                "term_end": "2027-01-01",
                "seats": 5,
            },
        ),
        (
            system.rewards,
            "/v1/milestones",
            {
                "key": "first-report",
                "name": "First report",
                "kind": "usage_threshold",
                "params": {"usage_type": "report.generated", "target": 1},
                "reward": {"kind": "credits", "credits": "100", "credits_expire_days": 90},
            },
        ),
        (
            system.notifications,
            "/v1/rules",
            {
                "name": "Usage thresholds",
                "event_types": ["tangible.entitlements.v1.threshold_crossed"],
                "channels": ["inbox"],
                "template": {
                    "title": "{{ data.feature_key }} at {{ data.threshold_percent }} % of your plan",
                    "body": "You have used {{ data.usage | int }} of {{ data.limit | int }}.",
                },
            },
        ),
    ]
    for client, path, body in steps:
        response = await client.post(path, json=body, headers=admin)
        assert response.status_code in (200, 201), f"{path}: {response.status_code} {response.text}"


async def send_usage(system: Any, token: str) -> None:
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "app://reports",
        "type": "report.generated",
        "subject": ACCOUNT,
        "time": "2026-11-26T10:00:00Z",
        "data": {"quantity": 1, "user_id": "u-1"},
    }
    response = await system.ingest.post(
        "/v1/events",
        json=[event],
        headers={**bearer(token), "Content-Type": "application/cloudevents-batch+json"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 1


async def test_one_usage_event_reaches_entitlements_rewards_and_the_inbox(
    start_system: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    system = await start_system()
    admin = bearer(issue_token(tenant_id, "admin"))
    await provision(system, admin)
    await send_usage(system, issue_token(tenant_id, "ingest"))
    reader = bearer(issue_token(tenant_id, "read", account_id=ACCOUNT))

    async def counter_moved() -> dict[str, Any]:
        response = await system.entitlements.get(
            f"/v1/accounts/{ACCOUNT}/entitlements/reports", headers=reader
        )
        assert response.status_code == 200, response.text
        assert response.json()["usage"] == 1
        return dict(response.json())

    async def progress_moved() -> dict[str, Any]:
        response = await system.rewards.get(f"/v1/accounts/{ACCOUNT}/progress", headers=reader)
        assert response.status_code == 200, response.text
        [milestone] = response.json()["milestones"]
        assert milestone["current"] == 1 and milestone["reached"]
        return dict(milestone)

    async def inbox_filled() -> dict[str, Any]:
        response = await system.notifications.get(f"/v1/accounts/{ACCOUNT}/inbox", headers=reader)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert len(items) == 1
        return dict(items[0])

    check = await eventually(counter_moved, timeout=5)
    assert check["has_access"] is True and check["remaining"] == 1
    assert check["sources"] == [{"kind": "plan", "key": "starter", "version": 1, "expires_at": None}]
    await eventually(progress_moved, timeout=5)
    item = await eventually(inbox_filled, timeout=5)
    assert item["title"] == "reports at 50 % of your plan"
    assert item["body"] == "You have used 1 of 2."


async def test_without_the_entitlements_consumer_the_counter_and_inbox_stay_empty(
    start_system: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    """The end-to-end path really depends on the entitlements hop (no shortcut exists)."""
    system = await start_system(entitlements_roles=("api", "relay"))
    admin = bearer(issue_token(tenant_id, "admin"))
    await provision(system, admin)
    await send_usage(system, issue_token(tenant_id, "ingest"))
    reader = bearer(issue_token(tenant_id, "read"))

    async def progress_moved() -> None:
        response = await system.rewards.get(f"/v1/accounts/{ACCOUNT}/progress", headers=reader)
        assert response.json()["milestones"][0]["current"] == 1

    await eventually(progress_moved, timeout=5)  # the event did flow through Kafka
    await asyncio.sleep(2)
    check = await system.entitlements.get(f"/v1/accounts/{ACCOUNT}/entitlements/reports", headers=reader)
    assert check.json()["usage"] == 0
    inbox = await system.notifications.get(f"/v1/accounts/{ACCOUNT}/inbox", headers=reader)
    assert inbox.json()["items"] == []
