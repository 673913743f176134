"""License lifecycle and seats on real PostgreSQL and Kafka."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tangible_devstack.testing import eventually

pytestmark = pytest.mark.integration
TOPIC = "tangible.entitlements.v1"


async def _state(h: Any, license_id: str) -> dict[str, Any]:
    """Everything a caller can see of a license: the record, its seats, its entitlements."""
    license = await h.call("GET", f"/v1/licenses/{license_id}")
    license.pop("status_changed_at")
    seats = await h.call("GET", f"/v1/licenses/{license_id}/seats")
    response = await h.client.get("/v1/accounts/acct-1/entitlements", headers=h.headers("read"))
    entitlements = {e["feature_key"]: e for e in response.json()["entitlements"]}
    return {"license": license, "seats": seats, "entitlements": entitlements}


async def test_revoke_then_restore_returns_the_exact_prior_state(service: Any) -> None:
    h = service
    license = await h.provision()
    lid = license["id"]
    await h.call("POST", "/v1/addons", {"key": "sso-pack", "name": "SSO", "features": {"sso": {}}})
    await h.call("POST", "/v1/addons/sso-pack/versions/1/publish")
    await h.call("POST", f"/v1/licenses/{lid}/addons", {"addon_key": "sso-pack"})
    await h.call("POST", "/v1/plans", {"key": "pro", "name": "Pro", "features": {"reports": {"limit": 99}}})
    await h.call("POST", "/v1/plans/pro/versions/1/publish")
    await h.call("POST", f"/v1/licenses/{lid}/plan", {"plan_key": "pro", "effective": "at_renewal"})
    for user in ("u1", "u2"):
        await h.call("POST", f"/v1/licenses/{lid}/seats", {"user_id": user}, status=201)

    async def settled() -> dict[str, Any]:
        state = await _state(h, lid)
        assert state["entitlements"]["sso"]["has_access"] and state["entitlements"]["seats"]["usage"] == 2
        return state

    before = await eventually(settled)
    revoked = await h.call("POST", f"/v1/licenses/{lid}/revoke", {"reason": "chargeback"})
    assert revoked["status"] == "revoked"

    async def cut_off() -> None:
        state = await _state(h, lid)
        assert not any(e["has_access"] for e in state["entitlements"].values())
        assert state["seats"]["users"] == []

    await eventually(cut_off)
    changes = await h.client.post(f"/v1/licenses/{lid}/renew", json={}, headers=h.headers())
    assert changes.status_code == 409  # a revoked license must be restored first
    h.clock.advance(timedelta(days=2))
    await h.call("POST", f"/v1/licenses/{lid}/restore", {"reason": "resolved"})

    async def restored() -> None:
        assert await _state(h, lid) == before

    await eventually(restored)
    history = (await h.call("GET", f"/v1/licenses/{lid}/history"))["items"]
    revoke, restore = history[-2], history[-1]
    assert (revoke["action"], revoke["reason"], restore["action"], restore["reason"]) == (
        "revoked",
        "chargeback",
        "restored",
        "resolved",
    )
    assert restore["after"]["assigned_users"] == ["u1", "u2"] == revoke["before"]["assigned_users"]
    assert restore["after"]["status"] == "active" and revoke["after"]["status"] == "revoked"
    transitions = [
        e.data.transition
        for e in await h.wait_events(2, TOPIC, "tangible.entitlements.v1.license_status_changed")
    ]
    assert transitions == ["revoked", "restored"]


async def test_suspension_can_only_be_undone_within_the_window(service: Any) -> None:
    h = service
    license = await h.provision()
    lid = license["id"]
    await h.call("POST", f"/v1/licenses/{lid}/suspend", {"reason": "unpaid"})
    h.clock.advance(timedelta(days=31))
    late = await h.client.post(f"/v1/licenses/{lid}/reinstate", json={}, headers=h.headers())
    assert late.status_code == 409 and late.json()["type"].endswith("restore-window-closed")
    wrong = await h.client.post(f"/v1/licenses/{lid}/restore", json={}, headers=h.headers())
    assert wrong.status_code == 409


async def test_seats_are_enforced_and_the_allocation_shows_who_is_active(service: Any) -> None:
    h = service
    license = await h.provision()  # 3 seats
    lid = license["id"]
    for user in ("u1", "u2", "u3"):
        await h.call("POST", f"/v1/licenses/{lid}/seats", {"user_id": user}, status=201)
    again = await h.client.post(f"/v1/licenses/{lid}/seats", json={"user_id": "u1"}, headers=h.headers())
    assert again.status_code == 200  # already a seat holder: nothing changes
    full = await h.client.post(f"/v1/licenses/{lid}/seats", json={"user_id": "u4"}, headers=h.headers())
    assert full.status_code == 409
    assert full.headers["content-type"].startswith("application/problem+json")
    assert (
        full.json()["type"].endswith("seats-full"),
        full.json()["purchased"],
        full.json()["assigned"],
    ) == (
        True,
        3,
        3,
    )
    await h.call("DELETE", f"/v1/licenses/{lid}/seats/u3", status=204)
    missing = await h.client.delete(f"/v1/licenses/{lid}/seats/u3", headers=h.headers())
    assert missing.status_code == 404

    # u1 used the product 3 days ago, u2 40 days ago (outside the 30-day window)
    await h.produce(
        [
            h.usage("acct-1", at=h.clock.now() - timedelta(days=3), user_id="u1"),
            h.usage("acct-1", at=h.clock.now() - timedelta(days=40), user_id="u2"),
        ]
    )

    async def allocated() -> dict[str, Any]:
        report = await h.call("GET", "/v1/accounts/acct-1/seats")
        assert report["users"][1]["last_active_at"] is not None
        return dict(report)

    report = await eventually(allocated)
    assert {k: report[k] for k in ("purchased", "assigned", "active", "idle")} == {
        "purchased": 3,
        "assigned": 2,
        "active": 1,
        "idle": 1,
    }
    assert [(u["user_id"], u["active"]) for u in report["users"]] == [("u1", True), ("u2", False)]
    seat_events = await h.wait_events(
        4, TOPIC, "tangible.entitlements.v1.seat_assigned", "tangible.entitlements.v1.seat_unassigned"
    )
    assert [(e.type.rsplit(".", 1)[1], e.data.user_id, e.data.assigned) for e in seat_events] == [
        ("seat_assigned", "u1", 1),
        ("seat_assigned", "u2", 2),
        ("seat_assigned", "u3", 3),
        ("seat_unassigned", "u3", 2),
    ]
    own = h.headers("read", account_id="acct-1")
    assert (await h.client.get("/v1/accounts/acct-1/seats", headers=own)).status_code == 200
    other = h.headers("read", account_id="acct-2")
    assert (await h.client.get("/v1/accounts/acct-1/seats", headers=other)).status_code == 403
    reader = await h.client.post(
        f"/v1/licenses/{lid}/seats", json={"user_id": "u9"}, headers=h.headers("read")
    )
    assert reader.status_code == 403


async def test_licenses_are_listed_per_account_and_addons_come_and_go(service: Any) -> None:
    h = service
    license = await h.provision()
    await h.call(
        "POST", "/v1/addons", {"key": "extra", "name": "Extra", "features": {"reports": {"limit": 5}}}
    )
    await h.call("POST", "/v1/addons/extra/versions/1/publish")
    added = await h.call("POST", f"/v1/licenses/{license['id']}/addons", {"addon_key": "extra"})
    assert added["addons"] == {"extra": 1}

    async def more() -> None:
        assert (await h.check("acct-1", "reports"))["limit"] == 15

    await eventually(more)
    removed = await h.call("DELETE", f"/v1/licenses/{license['id']}/addons/extra")
    assert removed["addons"] == {}
    listed = await h.call("GET", "/v1/accounts/acct-1/licenses")
    assert listed["total"] == 1 and listed["items"][0]["id"] == license["id"]
    changed = await h.wait_events(2, TOPIC, "tangible.entitlements.v1.license_addons_changed")
    assert [(e.data.added, e.data.removed) for e in changed] == [(["extra"], []), ([], ["extra"])]
