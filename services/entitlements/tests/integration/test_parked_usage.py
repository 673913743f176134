"""Early usage over the real stack: parked (and listed) while the account has no license,
applied once when the license is created, and dead-lettered as parked_expired when it ages
past the window with no license."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tangible_devstack.testing import eventually
from tangible_entitlements.entrypoints.consumers import USAGE_CONSUMER

pytestmark = pytest.mark.integration
DLQ = f"/v1/dead-letters/{USAGE_CONSUMER}"


async def _parked(h: Any, count: int, query: str = "") -> dict[str, Any]:
    async def probe() -> dict[str, Any]:
        page = await h.call("GET", f"/v1/parked-usage{query}")
        assert page["total"] == count, page
        return dict(page)

    return await eventually(probe)


async def test_parked_usage_is_listed_applied_with_the_license_and_expires_without_one(service: Any) -> None:
    h = service
    await h.provision("acct-1", limit=4)
    now = h.clock.now()
    early = [h.usage("newcomer", at=now - timedelta(hours=3 - i)) for i in range(3)]
    await h.produce([*early, h.usage("ghost", at=now - timedelta(days=29))])
    page = await _parked(h, 3, "?account_id=newcomer")
    times = [item["occurred_at"] for item in page["items"]]
    assert times == sorted(times)  # oldest first
    assert (await h.call("GET", "/v1/parked-usage?limit=1"))["items"][0]["account_id"] == "ghost"

    await h.call(
        "POST",
        "/v1/licenses",
        {
            "account_id": "newcomer",
            "plan_key": "starter",
            "term_start": "2026-01-01",
            "term_end": "2027-01-01",
        },
    )
    await _parked(h, 0, "?account_id=newcomer")

    async def counted() -> None:
        assert (await h.check("newcomer", "reports"))["usage"] == 3

    await eventually(counted)

    h.clock.set(now + timedelta(days=2))  # the ghost's event is now older than the window
    await _parked(h, 0)

    async def expired() -> None:
        items = (await h.call("GET", DLQ))["items"]
        assert [i["reason"] for i in items] == ["parked_expired"], items

    await eventually(expired)
    await h.call("GET", "/v1/parked-usage?limit=0", status=422)
