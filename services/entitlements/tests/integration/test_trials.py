"""Trials on real Kafka and PostgreSQL, with a controllable clock (no sleeping to a date)."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tangible_devstack.testing import eventually
from tangible_entitlements.entrypoints.scheduler import run_once
from tangible_schemas.rewards import RewardGranted

pytestmark = pytest.mark.integration
TOPIC = "tangible.entitlements.v1"
START = datetime(2026, 11, 2, 9, tzinfo=UTC)  # a 7-day trial stays inside November's period
PRO = {
    "key": "pro",
    "name": "Pro",
    "price": 99,
    "features": {"reports": {"limit": 100}, "sso": {}, "support": {"config": "priority"}, "seats": {}},
}


async def entitlements(h: Any) -> dict[str, dict[str, Any]]:
    response = await h.client.get("/v1/accounts/acct-1/entitlements", headers=h.headers("read"))
    assert response.status_code == 200, response.text
    return {e["feature_key"]: e for e in response.json()["entitlements"]}


async def setup(h: Any) -> str:
    h.clock.set(START)
    license = await h.provision(limit=10)
    await h.call("POST", "/v1/plans", PRO)
    await h.call("POST", "/v1/plans/pro/versions/1/publish")
    await h.call(
        "POST", "/v1/addons", {"key": "sso-pack", "name": "SSO", "price": 9, "features": {"sso": {}}}
    )
    await h.call("POST", "/v1/addons/sso-pack/versions/1/publish")
    await h.produce([h.usage("acct-1", at=START) for _ in range(3)])

    async def counted() -> None:
        # from the view: a trial refreshes the account's license in it, not its counters
        assert h.in_view("acct-1")
        assert (await h.check("acct-1", "reports"))["usage"] == 3

    await eventually(counted)
    return str(license["id"])


async def test_a_plan_trial_with_a_grant_during_it_expires_to_the_exact_pre_trial_values_plus_the_grant(
    service: Any,
) -> None:
    h = service
    lid = await setup(h)
    before = await entitlements(h)
    license_before = await h.call("GET", f"/v1/licenses/{lid}")

    trial = await h.call(
        "POST",
        f"/v1/licenses/{lid}/trials",
        {"target_kind": "plan", "target_key": "pro", "days": 7},
        status=201,
    )
    ends = "2026-11-09T09:00:00Z"
    assert (trial["status"], trial["ends_at"], trial["features"]) == (
        "active",
        ends,
        ["reports", "sso", "support"],
    )
    # in force at once, on this replica, named as a trial in the sources
    during = await entitlements(h)
    assert (during["reports"]["limit"], during["reports"]["usage"]) == (100, 3)
    assert during["reports"]["sources"] == [{"kind": "trial", "key": "pro", "version": 1, "expires_at": ends}]
    assert during["sso"]["has_access"] and during["support"]["config"] == "priority"

    # during the trial: a reward grant arrives (not overridden by the trial: kept), a seat is
    # assigned (kept), and the plan — the slot the trial overrides — is migrated (undone)
    h.clock.advance(timedelta(days=1))
    reward = RewardGranted(
        tenant_id=h.tenant,
        account_id="acct-1",
        reward_id="r-beta",
        rule_id="champion",
        kind="early_access",
        feature_key="sso",
        ends_at=datetime(2027, 1, 1, tzinfo=UTC),
    )
    await h.produce([h.record(reward)])
    await h.call("POST", f"/v1/licenses/{lid}/seats", {"user_id": "u1"}, status=201)
    await h.call(
        "POST", "/v1/plans", {"key": "starter", "name": "Starter", "features": {"reports": {"limit": 20}}}
    )
    await h.call("POST", "/v1/plans/starter/versions/2/publish")
    await h.call("POST", f"/v1/licenses/{lid}/plan", {"plan_key": "starter", "plan_version": 2})

    async def granted() -> None:
        sources = (await entitlements(h))["sso"]["sources"]
        assert [s["kind"] for s in sources] == ["trial", "grant"], sources

    await eventually(granted)

    h.clock.set(datetime(2026, 11, 6, 10, tzinfo=UTC))  # 3 days before the end
    [soon] = await h.wait_events(1, TOPIC, "tangible.entitlements.v1.trial_ending_soon_announced")
    assert (soon.data.trial_id, soon.data.days_left) == (trial["id"], 3)  # the default lead
    [started] = await h.events(TOPIC, "tangible.entitlements.v1.trial_started")
    assert (started.data.trial_id, started.data.target_kind, started.data.target_key) == (
        trial["id"],
        "plan",
        "pro",
    )
    assert (started.data.target_version, started.data.ends_at.isoformat()) == (1, "2026-11-09T09:00:00+00:00")

    h.clock.set(datetime(2026, 11, 9, 9, tzinfo=UTC))
    [ended] = await h.wait_events(1, TOPIC, "tangible.entitlements.v1.trial_ended")
    assert (ended.data.trial_id, ended.data.outcome, ended.data.target_key) == (trial["id"], "expired", "pro")

    async def rolled_back() -> dict[str, Any]:
        license = await h.call("GET", f"/v1/licenses/{lid}")
        assert license["trials"] == [], license
        return dict(license)

    license_after = await eventually(rolled_back)
    assert {k: v for k, v in license_after.items() if k != "trials"} == {
        k: v for k, v in license_before.items() if k != "trials"
    }
    expected = copy.deepcopy(before)  # the pre-trial values …
    grant = {"kind": "grant", "key": "reward:r-beta", "version": None, "expires_at": "2027-01-01T00:00:00Z"}
    expected["sso"].update(has_access=True, sources=[grant])  # … plus the grant
    expected["seats"]["usage"] = 1  # … and the seat assigned meanwhile
    expected["seats"]["remaining"] = 2
    assert await entitlements(h) == expected
    actions = [r["action"] for r in (await h.call("GET", f"/v1/licenses/{lid}/history"))["items"]]
    assert [a for a in actions if a != "grant_applied"] == [
        "created",
        "trial_started",
        "seat_assigned",
        "plan_changed_now",
        "trial_ended",
    ]
    assert "grant_applied" in actions


async def test_cancel_restores_exactly_and_convert_keeps_and_records(service: Any) -> None:
    h = service
    lid = await setup(h)
    before = await entitlements(h)
    license_before = await h.call("GET", f"/v1/licenses/{lid}")
    body = {"target_kind": "addon", "target_key": "sso-pack", "days": 14}
    trial = await h.call("POST", f"/v1/licenses/{lid}/trials", body, status=201)
    assert (await entitlements(h))["sso"]["sources"][0]["kind"] == "trial"
    conflict = await h.client.post(
        f"/v1/licenses/{lid}/trials",
        json={**body, "target_kind": "plan", "target_key": "pro"},
        headers=h.headers(),
    )
    assert conflict.status_code == 409 and conflict.json()["type"].endswith("trial-conflict")  # sso is taken

    await h.call("POST", f"/v1/licenses/{lid}/trials/{trial['id']}/cancel", {"reason": "not for us"})
    assert await entitlements(h) == before
    assert await h.call("GET", f"/v1/licenses/{lid}") == license_before
    again = await h.client.post(f"/v1/licenses/{lid}/trials", json=body, headers=h.headers())
    assert again.status_code == 409 and again.json()["type"].endswith("trial-not-eligible")  # once per target

    await h.call("PUT", "/v1/settings/lifecycle", {"trial_eligibility": "once_per_account"})
    plan_trial = {"target_kind": "plan", "target_key": "pro", "days": 14}
    refused = await h.client.post(f"/v1/licenses/{lid}/trials", json=plan_trial, headers=h.headers())
    assert refused.status_code == 409
    await h.call(
        "PUT",
        "/v1/settings/lifecycle",
        {"trial_eligibility": "unlimited", "trial_max_days": 10, "trial_ending_soon_days": 8},
    )
    too_long = await h.client.post(f"/v1/licenses/{lid}/trials", json=plan_trial, headers=h.headers())
    assert too_long.status_code == 422 and too_long.json()["type"].endswith("invalid-trial")
    h.clock.advance(timedelta(hours=1))
    pro = await h.call("POST", f"/v1/licenses/{lid}/trials", {**plan_trial, "days": 10}, status=201)
    h.clock.advance(timedelta(days=2, hours=1))  # inside the tenant's lead of 8 days
    [soon] = await h.wait_events(1, TOPIC, "tangible.entitlements.v1.trial_ending_soon_announced")
    assert (soon.data.trial_id, soon.data.days_left) == (pro["id"], 8)
    converted = await h.call("POST", f"/v1/licenses/{lid}/trials/{pro['id']}/convert", {"reason": "signed"})
    assert (converted["plan_key"], converted["plan_version"], converted["trials"]) == ("pro", 1, [])
    assert (await entitlements(h))["reports"]["sources"] == [
        {"kind": "plan", "key": "pro", "version": 1, "expires_at": None}
    ]
    twice = await h.client.post(f"/v1/licenses/{lid}/trials/{pro['id']}/cancel", json={}, headers=h.headers())
    assert twice.status_code == 409

    history = (await h.call("GET", f"/v1/licenses/{lid}/history"))["items"]
    record = history[-1]
    assert (record["action"], record["reason"]) == ("trial_converted", "signed")
    assert (record["before"]["plan_key"], record["after"]["plan_key"]) == ("starter", "pro")
    trials = await h.call("GET", "/v1/accounts/acct-1/trials")
    assert [(t["target_key"], t["status"]) for t in trials["items"]] == [
        ("pro", "converted"),
        ("sso-pack", "cancelled"),
    ]
    active = await h.call("GET", "/v1/accounts/acct-1/trials?status=active")
    assert active["total"] == 0
    finished = await h.wait_events(
        2, TOPIC, "tangible.entitlements.v1.trial_ended", "tangible.entitlements.v1.trial_converted"
    )
    assert [(e.type.rsplit(".", 1)[1], e.data.reason) for e in finished] == [
        ("trial_ended", "not for us"),
        ("trial_converted", "signed"),
    ]
    reader = await h.client.post(f"/v1/licenses/{lid}/trials", json=plan_trial, headers=h.headers("read"))
    assert reader.status_code == 403


async def test_trials_end_once_each_with_two_scheduler_replicas_racing(harness: Any) -> None:
    h = harness
    h.clock.set(START)
    async with h.run(roles=("api", "relay")):
        await h.provision(limit=10)
        await h.call("POST", "/v1/plans", PRO)
        await h.call("POST", "/v1/plans/pro/versions/1/publish")
        accounts = ["acct-1", "acct-2", "acct-3"]
        trials = []
        for account in accounts:
            if account != "acct-1":
                body = {
                    "account_id": account,
                    "plan_key": "starter",
                    "term_start": "2026-01-01",
                    "term_end": "2027-01-01",
                }
                await h.call("POST", "/v1/licenses", body)
            [license] = (await h.call("GET", f"/v1/accounts/{account}/licenses"))["items"]
            trial = {"target_kind": "plan", "target_key": "pro", "days": 7}
            trials.append(await h.call("POST", f"/v1/licenses/{license['id']}/trials", trial, status=201))

        h.clock.set(datetime(2026, 11, 9, 10, tzinfo=UTC))  # every trial is over; no scheduler ran
        async with h.schedulers(2) as replicas:
            await asyncio.gather(*(run_once(c) for c in replicas for _ in range(3)))
            ended = await h.wait_events(3, TOPIC, "tangible.entitlements.v1.trial_ended")
            await h.relay_idle()
        ended = await h.events(TOPIC, "tangible.entitlements.v1.trial_ended")
        assert sorted(e.data.trial_id for e in ended) == sorted(t["id"] for t in trials)
        # downtime covered the whole lead: a notice that the trial "ends soon" would come after
        # its end, so none is sent (a notice missed while the trial still runs comes out late)
        assert await h.events(TOPIC, "tangible.entitlements.v1.trial_ending_soon_announced") == []
        for account in accounts:
            assert (await h.check(account, "reports"))["sources"][0]["key"] == "starter"
            [license] = (await h.call("GET", f"/v1/accounts/{account}/licenses"))["items"]
            assert (license["plan_key"], license["trials"]) == ("starter", [])
            actions = [r["action"] for r in (await h.call("GET", f"/v1/accounts/{account}/history"))["items"]]
            assert actions.count("trial_ended") == 1
