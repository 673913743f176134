"""Voiding one credits grant: what is left of it leaves the balance, with provenance, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tangible_devstack.testing import eventually
from tangible_runtime.domain import ManualClock
from tangible_schemas.rewards import CreditsAdjusted

pytestmark = pytest.mark.integration

ACCOUNT = "acct-void"
RULE = {
    "key": "first-report",
    "name": "First report",
    "kind": "usage_threshold",
    "params": {"usage_type": "report.generated", "target": 1},
    "reward": {"kind": "credits", "credits": "40"},
}


async def test_voiding_a_grant_takes_back_what_is_left_of_it(
    launch: Any, admin: dict[str, str], kafka: Any, make_usage: Any, clock: ManualClock
) -> None:
    rewards = await launch()
    assert (await rewards.post("/v1/milestones", json=RULE, headers=admin)).status_code == 201
    await kafka.send([make_usage(ACCOUNT)])

    async def earned() -> dict[str, Any]:
        listed = (await rewards.get(f"/v1/accounts/{ACCOUNT}/rewards", headers=admin)).json()
        assert listed["total"] == 1
        return dict(listed["rewards"][0])

    reward = await eventually(earned, timeout=30)
    # the adjustment comes a minute after the grant, so that the grant is the oldest credit
    # and burns first (at the same instant the bucket id would decide)
    clock.advance(timedelta(minutes=1))
    other = {"amount": "10", "reason": "goodwill"}
    assert (
        await rewards.post(f"/v1/accounts/{ACCOUNT}/adjustments", json=other, headers=admin)
    ).status_code == 201
    spend = await rewards.post(
        f"/v1/accounts/{ACCOUNT}/redemptions",
        json={"amount": "15"},
        headers={**admin, "Idempotency-Key": "s"},
    )
    assert spend.json()["balance_after"] == "35.00"  # 25 left of the grant, 10 of the adjustment

    void = f"/v1/accounts/{ACCOUNT}/rewards/{reward['reward_id']}/void"
    voided = await rewards.post(void, json={"reason": "granted by mistake"}, headers=admin)
    assert voided.status_code == 200, voided.text
    assert (voided.json()["amount"], voided.json()["balance_after"]) == ("-25.00", "10.00")
    assert (await rewards.post(void, json={"reason": "again"}, headers=admin)).status_code == 409
    missing = f"/v1/accounts/{ACCOUNT}/rewards/nope/void"
    assert (await rewards.post(missing, json={"reason": "x"}, headers=admin)).status_code == 404

    after = (await rewards.get(f"/v1/accounts/{ACCOUNT}/rewards", headers=admin)).json()["rewards"][0]
    assert after["status"] == "voided"
    latest = (await rewards.get(f"/v1/accounts/{ACCOUNT}/ledger", headers=admin)).json()["entries"][0]
    assert latest["kind"] == "void" and latest["provenance"]["reward_id"] == reward["reward_id"]
    assert (
        latest["provenance"]["reason"] == "granted by mistake"
        and latest["provenance"]["rule_key"] == "first-report"
    )

    async def announced() -> None:
        voids = [e for e in await kafka.rewards_events(CreditsAdjusted.event_type) if e.kind == "void"]
        assert [(str(e.amount), e.reward_id) for e in voids] == [("-25.00", reward["reward_id"])]

    await eventually(announced, timeout=15)
