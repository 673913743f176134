"""The foundation flow as a reusable scenario: provision a tenant, send usage, read results.

Used by the end-to-end tests (in-process and against `make run`) and by the demo.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Clients:
    ingest: httpx.AsyncClient
    entitlements: httpx.AsyncClient
    rewards: httpx.AsyncClient
    notifications: httpx.AsyncClient


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def provision(clients: Clients, admin_token: str, account_id: str) -> None:
    """A metered feature with a limit of 2, a milestone at 1 report, an inbox rule."""
    steps: list[tuple[httpx.AsyncClient, str, dict[str, Any]]] = [
        (
            clients.entitlements,
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
            clients.entitlements,
            "/v1/plans",
            {"key": "starter", "name": "Starter", "features": {"reports": {"limit": 2}}},
        ),
        (clients.entitlements, "/v1/plans/starter/versions/1/publish", {}),
        (
            clients.entitlements,
            "/v1/licenses",
            {
                "account_id": account_id,
                "plan_key": "starter",
                "term_start": "2026-01-01",
                "term_end": "2027-01-01",
                "seats": 5,
            },
        ),
        (
            clients.rewards,
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
            clients.notifications,
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
        response = await client.post(path, json=body, headers=bearer(admin_token))
        if response.status_code not in (200, 201):
            raise AssertionError(f"{path}: {response.status_code} {response.text}")


async def send_report_generated(clients: Clients, ingest_token: str, account_id: str) -> httpx.Response:
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "app://reports",
        "type": "report.generated",
        "subject": account_id,
        "time": "2026-11-26T10:00:00Z",
        "data": {"quantity": 1, "user_id": "u-1"},
    }
    return await clients.ingest.post(
        "/v1/events",
        json=[event],
        headers={**bearer(ingest_token), "Content-Type": "application/cloudevents-batch+json"},
    )


async def report_usage(clients: Clients, token: str, account_id: str) -> dict[str, Any]:
    response = await clients.entitlements.get(
        f"/v1/accounts/{account_id}/entitlements/reports", headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def first_milestone(clients: Clients, token: str, account_id: str) -> dict[str, Any]:
    response = await clients.rewards.get(f"/v1/accounts/{account_id}/progress", headers=bearer(token))
    assert response.status_code == 200, response.text
    return dict(response.json()["milestones"][0])


async def inbox_items(clients: Clients, token: str, account_id: str) -> list[dict[str, Any]]:
    response = await clients.notifications.get(f"/v1/accounts/{account_id}/inbox", headers=bearer(token))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])
