"""Grants (reward and manual) and the check API's view, ETag, as-of reads and credentials."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tangible_devstack.testing import eventually
from tangible_schemas.rewards import RewardGranted

pytestmark = pytest.mark.integration
TOPIC = "tangible.entitlements.v1"


def reward(h: Any, reward_id: str, **fields: Any) -> RewardGranted:
    return RewardGranted(
        tenant_id=h.tenant, account_id="acct-1", reward_id=reward_id, rule_id="champion", **fields
    )


async def test_a_reward_grant_applies_once_and_expires_on_time(service: Any) -> None:
    h = service
    await h.provision()
    ends = h.clock.now() + timedelta(days=14)
    early = h.record(reward(h, "r1", kind="early_access", feature_key="sso", ends_at=ends))
    support = h.record(reward(h, "r2", kind="support_level", support_level="premium", ends_at=ends))
    credits = h.record(reward(h, "r3", kind="credits", credits=100))
    await h.produce([early, support, credits, early])  # early access delivered twice

    async def applied() -> dict[str, Any]:
        # the rewards may be applied in separate consumer batches: wait for both
        check = await h.check("acct-1", "sso")
        assert check["has_access"], check
        assert (await h.check("acct-1", "support"))["config"] == "premium"
        return dict(check)

    check = await eventually(applied)
    assert check["sources"] == [
        {"kind": "grant", "key": "reward:r1", "version": None, "expires_at": "2026-12-10T12:00:00Z"}
    ]
    grants = await h.call("GET", "/v1/accounts/acct-1/grants")
    assert grants["total"] == 2
    applied_events = await h.wait_events(2, TOPIC, "tangible.entitlements.v1.grant_applied")
    assert sorted(e.data.source for e in applied_events) == ["reward:r1", "reward:r2"]

    # expiry takes effect at its moment, with no request or event needed …
    h.clock.set(ends)
    check = await h.check("acct-1", "sso")
    assert (check["has_access"], check["sources"]) == (False, [])
    assert (await h.check("acct-1", "support"))["config"] == "standard"
    # … and the scheduler announces it once per grant
    expired = await h.wait_events(2, TOPIC, "tangible.entitlements.v1.grant_expired")
    h.clock.advance(timedelta(hours=1))
    await h.produce([early])  # a late redelivery does not bring it back
    assert len(await h.events(TOPIC, "tangible.entitlements.v1.grant_expired")) == len(expired) == 2
    assert (await h.check("acct-1", "sso"))["has_access"] is False


async def test_manual_grants_override_and_can_be_ended(service: Any) -> None:
    h = service
    await h.provision(limit=10)
    grant = await h.call(
        "POST",
        "/v1/accounts/acct-1/grants",
        {
            "feature_key": "reports",
            "value": {"limit": 90, "hard": True},
            "reason": "pilot",
            "expires_at": "2027-01-01T00:00:00Z",
        },
        status=201,
    )

    async def raised() -> None:
        assert (await h.check("acct-1", "reports"))["limit"] == 100

    await eventually(raised)
    unknown = await h.client.post(
        "/v1/accounts/acct-1/grants", json={"feature_key": "nope"}, headers=h.headers()
    )
    assert unknown.status_code == 404
    await h.call("DELETE", f"/v1/accounts/acct-1/grants/{grant['id']}", status=204)

    async def back() -> None:
        assert (await h.check("acct-1", "reports"))["limit"] == 10

    await eventually(back)
    await h.wait_events(1, TOPIC, "tangible.entitlements.v1.grant_expired")


async def test_checks_have_etags_and_past_moments_read_the_history(service: Any) -> None:
    h = service
    license = await h.provision(limit=10)
    reader = h.headers("read")

    async def known() -> Any:
        response = await h.client.get("/v1/accounts/acct-1/entitlements/reports", headers=reader)
        assert response.status_code == 200
        return response

    first = await eventually(known)
    etag = first.headers["etag"]
    unchanged = await h.client.get(
        "/v1/accounts/acct-1/entitlements/reports", headers={**reader, "If-None-Match": etag}
    )
    assert unchanged.status_code == 304 and unchanged.headers["etag"] == etag and not unchanged.content
    await h.produce([h.usage("acct-1")])

    async def changed() -> None:
        response = await h.client.get(
            "/v1/accounts/acct-1/entitlements/reports", headers={**reader, "If-None-Match": etag}
        )
        assert response.status_code == 200 and response.json()["usage"] == 1
        assert response.headers["etag"] != etag
        assert h.in_view("acct-1")  # the next two reads come from the same source

    await eventually(changed)
    listed = await h.client.get("/v1/accounts/acct-1/entitlements", headers=reader)
    again = await h.client.get(
        "/v1/accounts/acct-1/entitlements", headers={**reader, "If-None-Match": listed.headers["etag"]}
    )
    assert again.status_code == 304  # the list's tag covers the entitlements, not the moment

    before_change = h.clock.now()
    h.clock.advance(timedelta(minutes=5))
    await h.call("POST", "/v1/plans", {"key": "pro", "name": "Pro", "features": {"reports": {"limit": 500}}})
    await h.call("POST", "/v1/plans/pro/versions/1/publish")
    await h.call("POST", f"/v1/licenses/{license['id']}/plan", {"plan_key": "pro"})

    async def now_pro() -> None:
        assert (await h.check("acct-1", "reports"))["limit"] == 500

    await eventually(now_pro)
    past = await h.check("acct-1", "reports", at=before_change.isoformat())
    assert (past["limit"], past["sources"][0]["key"]) == (10, "starter")
    too_early = await h.client.get(
        "/v1/accounts/acct-1/entitlements/reports", params={"at": "2020-01-01T00:00:00Z"}, headers=reader
    )
    assert too_early.status_code == 404
    naive = await h.client.get(
        "/v1/accounts/acct-1/entitlements/reports", params={"at": "2026-01-01T00:00:00"}, headers=reader
    )
    assert naive.status_code == 422

    own = h.headers("read", account_id="acct-1")
    listed = await h.client.get("/v1/accounts/acct-1/entitlements", headers=own)
    assert listed.status_code == 200 and {e["feature_key"] for e in listed.json()["entitlements"]} == {
        "reports",
        "sso",
        "support",
        "seats",
    }
    assert (await h.client.get("/v1/accounts/acct-2/entitlements", headers=own)).status_code == 403
    assert (await h.client.get("/v1/accounts/acct-1/entitlements")).status_code == 401
    ingest_only = h.headers("ingest")
    assert (await h.client.get("/v1/accounts/acct-1/entitlements", headers=ingest_only)).status_code == 403
    nobody = await h.client.get("/v1/accounts/nobody/entitlements/reports", headers=reader)
    assert nobody.status_code == 404
    no_feature = await h.client.get("/v1/accounts/acct-1/entitlements/nope", headers=reader)
    assert no_feature.status_code == 404


async def test_a_cold_replica_builds_its_view_before_it_is_ready(harness: Any) -> None:
    h = harness
    async with h.run():
        await h.provision(limit=10)
        await h.produce([h.usage("acct-1") for _ in range(4)])

        async def counted() -> None:
            assert (await h.check("acct-1", "reports"))["usage"] == 4

        await eventually(counted)
    async with h.run(roles=("api",)) as replica:
        # ready means loaded: the first answer already has the usage, from memory
        response = await replica.get("/v1/accounts/acct-1/entitlements/reports", headers=h.headers("read"))
        assert response.json()["usage"] == 4
        assert (await replica.get("/readyz")).json()["checks"]["entitlements_view"] == "ok"


async def test_usage_report_has_series_totals_impact_and_benefits_in_force(service: Any) -> None:
    h = service
    await h.provision(limit=100)
    days = [datetime(2026, 11, d, 9, tzinfo=UTC) for d in (2, 2, 3, 10, 24)]
    await h.produce([h.usage("acct-1", at=at, user_id="u1") for at in days])
    await h.produce(
        [
            h.record(
                reward(
                    h, "r1", kind="early_access", feature_key="sso", ends_at=datetime(2027, 1, 1, tzinfo=UTC)
                )
            )
        ]
    )
    url = "/v1/accounts/acct-1/usage?from=2026-11-01&to=2026-11-30&granularity=week"

    async def reported() -> dict[str, Any]:
        report = await h.call("GET", url)
        assert report["features"][0]["total"] == 5 and len(report["benefits_in_force"]) == 4
        return dict(report)

    report = await eventually(reported)
    assert set(report) == {
        "account_id",
        "from",
        "to",
        "granularity",
        "features",
        "impact",
        "benefits_in_force",
    }
    [reports] = report["features"]
    assert reports["impact"] == {"metric": "hours saved", "per_unit": 0.25, "value": 1.25}
    assert [(p["period_start"][:10], p["value"]) for p in reports["series"]] == [
        ("2026-10-26", 0),
        ("2026-11-02", 3),
        ("2026-11-09", 1),
        ("2026-11-16", 0),
        ("2026-11-23", 1),
        ("2026-11-30", 0),
    ]
    assert report["impact"] == [{"metric": "hours saved", "value": 1.25}]
    sso = next(b for b in report["benefits_in_force"] if b["feature_key"] == "sso")
    assert sso["sources"][0]["kind"] == "grant" and sso["outcome"] == "One login for everyone"
    own = await h.client.get(url, headers=h.headers("read", account_id="acct-1"))
    assert own.status_code == 200
    backwards = await h.client.get(
        "/v1/accounts/acct-1/usage?from=2026-11-30&to=2026-11-01", headers=h.headers()
    )
    assert backwards.status_code == 422


async def test_concurrent_schedulers_announce_each_expiry_once(service: Any) -> None:
    from tangible_entitlements.entrypoints.dependencies import Container
    from tangible_entitlements.service_layer import handlers

    h = service
    await h.provision()
    ends = (h.clock.now() + timedelta(days=1)).isoformat()
    for _ in range(20):
        await h.call(
            "POST", "/v1/accounts/acct-1/grants", {"feature_key": "sso", "expires_at": ends}, status=201
        )
    container: Container = h.app.state.container
    h.clock.advance(timedelta(days=2))
    claimed = await asyncio.gather(
        *(handlers.expire_grants(uow=container.new_uow(), clock=h.clock, batch_size=3) for _ in range(8))
    )
    expired = await h.wait_events(20, TOPIC, "tangible.entitlements.v1.grant_expired")
    assert sum(claimed) <= 20 and len(expired) == 20
    assert len({e.data.grant_id for e in expired}) == 20
