"""The foundation flow as a reusable scenario: provision a tenant, send usage, read results.

Used by the end-to-end tests (in-process and against `make run`) and by the demo. The
services it talks to run on the wall clock, so every date here is relative to now: the
license's term surrounds today and the event is stamped with the moment it is sent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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


def term_around(now: datetime) -> tuple[str, str]:
    """A one-year license term that started a month before `now` (so that it spans a
    period boundary crossed while a test runs, whichever day that is)."""
    start = (now - timedelta(days=30)).date()
    return start.isoformat(), (start + timedelta(days=365)).isoformat()


async def provision(
    clients: Clients, admin_token: str, account_id: str, *, term: tuple[str, str] | None = None
) -> None:
    """A metered feature with a limit of 2, a milestone at 1 report, an inbox rule.

    `term`: the license's (start, end) dates; by default a year around today (services on
    a manual clock pass dates that fit their clock)."""
    term_start, term_end = term or term_around(datetime.now(UTC))
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
                "term_start": term_start,
                "term_end": term_end,
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


@dataclass(frozen=True)
class Sent:
    """What ingest answered, and the moment the event was stamped with."""

    response: httpx.Response
    at: datetime


async def send_report_generated(
    clients: Clients, ingest_token: str, account_id: str, *, at: datetime | None = None
) -> Sent:
    moment = at or datetime.now(UTC)
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "app://reports",
        "type": "report.generated",
        "subject": account_id,
        "time": moment.isoformat(),
        "data": {"quantity": 1, "user_id": "u-1"},
    }
    response = await clients.ingest.post(
        "/v1/events",
        json=[event],
        headers={**bearer(ingest_token), "Content-Type": "application/cloudevents-batch+json"},
    )
    return Sent(response, moment)


async def report_usage(
    clients: Clients, token: str, account_id: str, *, at: datetime | None = None
) -> dict[str, Any]:
    """The check of `reports` now (from the in-memory view) or as of `at` (history)."""
    response = await clients.entitlements.get(
        f"/v1/accounts/{account_id}/entitlements/reports",
        params={"at": at.isoformat()} if at is not None else None,
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def usage_counted_for(clients: Clients, token: str, account_id: str, sent: Sent) -> dict[str, Any]:
    """The check that holds the sent event: today's, unless the meter's period ended
    between sending and reading (a test that runs at 23:59:59 on the last day of a month),
    in which case the event belongs to the period before and is read as of its time."""
    check = await report_usage(clients, token, account_id)
    if sent.at < datetime.fromisoformat(check["period_start"]):
        return await report_usage(clients, token, account_id, at=sent.at)
    return check


async def first_milestone(clients: Clients, token: str, account_id: str) -> dict[str, Any]:
    response = await clients.rewards.get(f"/v1/accounts/{account_id}/progress", headers=bearer(token))
    assert response.status_code == 200, response.text
    return dict(response.json()["milestones"][0])


async def inbox_items(clients: Clients, token: str, account_id: str) -> list[dict[str, Any]]:
    response = await clients.notifications.get(f"/v1/accounts/{account_id}/inbox", headers=bearer(token))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])
