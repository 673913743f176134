"""The tenant's book, rewards' part, on real PostgreSQL: credit expiring within N days of the
service's clock, per account, soonest first, in cursor pages, and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tangible_runtime.domain import ManualClock

pytestmark = pytest.mark.integration


async def test_credits_expiring_within_n_days(
    rewards: httpx.AsyncClient, clock: ManualClock, admin: dict[str, str], issue_token: Any
) -> None:
    now = clock.now()
    grants = [  # account, amount, expires in days (None: never)
        ("acct-a", "10", 5),
        ("acct-a", "4", 20),
        ("acct-b", "7", 2),
        ("acct-c", "9", 60),
        ("acct-d", "3", None),
    ]
    for account, amount, days in grants:
        body: dict[str, Any] = {"amount": amount, "reason": "grant"}
        if days is not None:
            body["expires_at"] = (now + timedelta(days=days)).isoformat()
        response = await rewards.post(f"/v1/accounts/{account}/adjustments", json=body, headers=admin)
        assert response.status_code == 201, response.text

    async def expiring(**params: Any) -> dict[str, Any]:
        response = await rewards.get("/v1/book/credits-expiring", params=params, headers=admin)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    month = await expiring(within_days=30)
    assert [(e["account_id"], e["expiring"]) for e in month["items"]] == [
        ("acct-b", "7.00"),
        ("acct-a", "14.00"),
    ]
    assert [(e["account_id"], e["expiring"]) for e in (await expiring(within_days=10))["items"]] == [
        ("acct-b", "7.00"),
        ("acct-a", "10.00"),
    ]

    first = await expiring(within_days=90, limit=2)
    assert [e["account_id"] for e in first["items"]] == ["acct-b", "acct-a"] and first["next_cursor"]
    rest = await expiring(within_days=90, limit=2, cursor=first["next_cursor"])
    assert [e["account_id"] for e in rest["items"]] == ["acct-c"] and rest["next_cursor"] is None

    clock.advance(timedelta(days=3))  # acct-b's credit has expired by the service's clock
    assert [e["account_id"] for e in (await expiring(within_days=30))["items"]] == ["acct-a"]

    exported = await rewards.get(
        "/v1/book/credits-expiring/export", params={"within_days": 90}, headers=admin
    )
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert [row["account_id"] for row in csv.DictReader(io.StringIO(exported.text))] == ["acct-a", "acct-c"]

    bad = await rewards.get("/v1/book/credits-expiring", params={"within_days": 0}, headers=admin)
    assert bad.status_code == 422
    reader = {"Authorization": f"Bearer {issue_token('another-tenant', 'admin')}"}
    assert (await rewards.get("/v1/book/credits-expiring", headers=reader)).json()["items"] == []
