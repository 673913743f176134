"""Imported history end to end: a streak from two months ago, sent as `imported` usage,
is granted with its historical date in the rewards, ledger and milestone events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from services.rewards.tests.integration.test_rule_kinds import granted, milestone
from tangible_runtime.domain import ManualClock
from tangible_schemas.rewards import MilestoneReached

pytestmark = pytest.mark.integration

ACCOUNT = "acct-kinds"  # the account test_rule_kinds' helpers read


async def test_an_imported_week_long_streak_from_two_months_ago_is_granted_on_its_seventh_day(
    launch: Any, clock: ManualClock, admin: dict[str, str], kafka: Any, make_usage: Any
) -> None:
    rewards = await launch()
    body = {
        "key": "week-run",
        "name": "A week running",
        "kind": "streak",
        "params": {"mode": "consecutive_days", "days": 7},
        "reward": {"kind": "credits", "credits": "25"},
    }
    assert (await rewards.post("/v1/milestones", json=body, headers=admin)).status_code == 201
    start = clock.now() - timedelta(days=60)
    days = [start + timedelta(days=d, hours=d) for d in range(7)]
    await kafka.send([make_usage(ACCOUNT, at).model_copy(update={"imported": True}) for at in days])

    reward = await granted(kafka, "week-run")
    assert (reward.granted_at, reward.imported, str(reward.credits)) == (days[6], True, "25.00")
    [reached] = await kafka.rewards_events(MilestoneReached.event_type)
    assert isinstance(reached, MilestoneReached)
    assert (reached.reached_at, reached.imported, reached.value) == (days[6], True, 7.0)

    earned = (await rewards.get(f"/v1/accounts/{ACCOUNT}/rewards", headers=admin)).json()["rewards"]
    earned_at = [(r["rule_key"], datetime.fromisoformat(r["granted_at"])) for r in earned]
    assert earned_at == [("week-run", days[6])]
    ledger = (await rewards.get(f"/v1/accounts/{ACCOUNT}/ledger", headers=admin)).json()
    entries = [(e["kind"], e["amount"], datetime.fromisoformat(e["created_at"])) for e in ledger["entries"]]
    assert entries == [("grant", "25.00", days[6])]
    progress = await milestone(rewards, admin, "week-run")
    assert (progress["status"], progress["current"]) == ("reached", 0)  # rewarded; the run broke since
