"""Each rule kind end to end: Kafka events in, progress and rewards (and their events) out."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tangible_devstack.testing import eventually
from tangible_runtime.domain import ManualClock
from tangible_schemas.entitlements import LicenseCreated, SeatAssigned, SeatUnassigned
from tangible_schemas.rewards import RewardGranted

pytestmark = pytest.mark.integration

ACCOUNT = "acct-kinds"


def license_created(tenant_id: str, start: date) -> LicenseCreated:
    return LicenseCreated(
        tenant_id=tenant_id,
        account_id=ACCOUNT,
        license_id="lic-1",
        status="active",
        plan_key="starter",
        plan_version=1,
        term_start=start,
        term_end=start.replace(year=start.year + 1),
        seats=10,
    )


def seat(tenant_id: str, user: str, *, assigned: bool = True) -> SeatAssigned | SeatUnassigned:
    kind = SeatAssigned if assigned else SeatUnassigned
    return kind(
        tenant_id=tenant_id, account_id=ACCOUNT, license_id="lic-1", user_id=user, assigned=1, purchased=10
    )


def rollout(*, min_seats: int) -> dict[str, Any]:
    """Half the assigned seats active within 30 days."""
    return {
        "key": "rollout",
        "name": "Rollout",
        "kind": "adoption",
        "params": {"percent": 50, "window_days": 30, "min_seats": min_seats},
        "reward": {"kind": "early_access", "feature_key": "ai-insights", "duration_days": 30},
    }


async def create(client: Any, admin: dict[str, str], body: dict[str, Any]) -> None:
    response = await client.post("/v1/milestones", json=body, headers=admin)
    assert response.status_code == 201, response.text


async def milestone(client: Any, admin: dict[str, str], key: str) -> dict[str, Any]:
    response = await client.get(f"/v1/accounts/{ACCOUNT}/progress", headers=admin)
    assert response.status_code == 200, response.text
    [found] = [m for m in response.json()["milestones"] if m["rule_key"] == key]
    return dict(found)


async def granted(kafka: Any, rule_key: str) -> RewardGranted:
    async def probe() -> RewardGranted:
        events: list[RewardGranted] = [
            e for e in await kafka.rewards_events(RewardGranted.event_type) if e.rule_key == rule_key
        ]
        assert len(events) == 1, events
        return events[0]

    return await eventually(probe, timeout=30)


async def test_a_streak_counts_local_days_and_breaks_on_the_scheduler(
    launch: Any, clock: ManualClock, admin: dict[str, str], kafka: Any, make_usage: Any, db: Any
) -> None:
    rewards = await launch()
    await rewards.put(
        f"/v1/accounts/{ACCOUNT}/settings", json={"time_zone": "Pacific/Auckland"}, headers=admin
    )
    await create(
        rewards,
        admin,
        {
            "key": "three-days",
            "name": "Three days running",
            "kind": "streak",
            "params": {"mode": "consecutive_days", "days": 3},
            "reward": {"kind": "custom", "name": "Streak badge", "description": "Three days in a row"},
        },
    )
    # three different days in Auckland (UTC+13), only two in UTC
    at = [datetime.fromisoformat(t) for t in ("2026-11-25T10:30Z", "2026-11-25T11:30Z", "2026-11-26T11:30Z")]
    await kafka.send([make_usage(ACCOUNT, t) for t in at])
    badge = await granted(kafka, "three-days")
    assert (badge.kind, badge.name, badge.description) == ("custom", "Streak badge", "Three days in a row")
    progress = await milestone(rewards, admin, "three-days")
    assert (progress["current"], progress["status"]) == (3, "reached")

    clock.advance(timedelta(days=3))  # no activity: the streak broke two days ago

    async def broken() -> None:
        assert await db.scalar("SELECT value FROM progress WHERE account_id = :a", a=ACCOUNT) == 0

    await eventually(broken, timeout=15)
    assert (await milestone(rewards, admin, "three-days"))["current"] == 0


async def test_adoption_is_reached_when_seats_are_taken_back_mid_window(
    launch: Any, tenant_id: str, admin: dict[str, str], kafka: Any, make_usage: Any, clock: ManualClock
) -> None:
    rewards = await launch()
    await create(rewards, admin, rollout(min_seats=2))
    await kafka.send([license_created(tenant_id, date(2026, 11, 1)), *(seat(tenant_id, u) for u in "abcd")])
    await kafka.send([make_usage(ACCOUNT, user_id="a")])

    async def one_of_two_needed() -> None:
        progress = await milestone(rewards, admin, "rollout")
        assert (progress["current"], progress["target"], progress["status"]) == (1, 2, "in_progress")
        assert progress["summary"] == "50 % to Rollout: 1 more active seats"

    await eventually(one_of_two_needed, timeout=30)
    await kafka.send([seat(tenant_id, "c", assigned=False), seat(tenant_id, "d", assigned=False)])
    access = await granted(kafka, "rollout")
    assert (access.kind, access.feature_key, access.ends_at) == (
        "early_access",
        "ai-insights",
        clock.now() + timedelta(days=30),
    )


async def test_time_to_value_counts_usage_that_arrived_before_the_license_event(
    launch: Any, tenant_id: str, admin: dict[str, str], kafka: Any, make_usage: Any, clock: ManualClock
) -> None:
    rewards = await launch()
    await create(
        rewards,
        admin,
        {
            "key": "quick-start",
            "name": "Quick start",
            "kind": "time_to_value",
            "params": {"usage_type": "report.generated", "days": 14, "target": 3, "unit_label": "reports"},
            "reward": {"kind": "support_level", "support_level": "premium", "duration_days": 30},
        },
    )
    await kafka.send([make_usage(ACCOUNT, quantity=2)])  # usage first, the license event after
    await kafka.send([license_created(tenant_id, clock.now().date() - timedelta(days=2))])

    async def two_of_three() -> None:
        progress = await milestone(rewards, admin, "quick-start")
        assert (progress["current"], progress["summary"]) == (2, "66 % to Quick start: 1 more reports")

    await eventually(two_of_three, timeout=30)
    await kafka.send([make_usage(ACCOUNT)])
    support = await granted(kafka, "quick-start")
    assert (support.kind, support.support_level, support.ends_at) == (
        "support_level",
        "premium",
        clock.now() + timedelta(days=30),
    )
    assert support.period_key == "lifetime"


async def test_anniversaries_are_granted_by_the_scheduler_once_per_year(
    launch: Any, tenant_id: str, admin: dict[str, str], kafka: Any, clock: ManualClock, db: Any
) -> None:
    rewards = await launch()
    await launch(roles=("scheduler",))  # a second replica: still one reward per anniversary
    await create(
        rewards,
        admin,
        {
            "key": "loyal",
            "name": "Loyal customer",
            "kind": "anniversary",
            "params": {"years": 1},
            "reward": {"kind": "credits", "credits": "20"},
            "repeat": "per_period",
        },
    )
    await kafka.send([license_created(tenant_id, date(2025, 11, 27))])

    async def licensed() -> None:
        progress = await milestone(rewards, admin, "loyal")
        assert (progress["remaining"], progress["status"]) == (1, "in_progress"), progress

    await eventually(licensed, timeout=30)
    clock.set(datetime.fromisoformat("2026-11-27T12:00Z"))
    first = await granted(kafka, "loyal")
    assert (first.period_key, str(first.credits)) == ("year-1", "20.00")
    clock.set(datetime.fromisoformat("2027-11-27T12:00Z"))

    async def second_year() -> None:
        assert await db.scalar("SELECT count(*) FROM rewards WHERE rule_key = 'loyal'") == 2
        assert await db.scalar("SELECT balance FROM account_balances WHERE account_id = :a", a=ACCOUNT) == 40

    await eventually(second_year, timeout=30)
    periods = await db.rows("SELECT reward_period FROM rewards ORDER BY reward_period")
    assert [p[0] for p in periods] == ["year-1", "year-2"]
    earned = (await rewards.get(f"/v1/accounts/{ACCOUNT}/rewards", headers=admin)).json()
    assert earned["total"] == 2
    assert {k: earned["rewards"][0][k] for k in ("rule_key", "name", "kind", "credits")} == {
        "rule_key": "loyal",
        "name": "Loyal customer",
        "kind": "credits",
        "credits": "20.00",
    }


async def test_adoption_progress_changes_when_an_active_holder_leaves_the_window(
    launch: Any, tenant_id: str, admin: dict[str, str], kafka: Any, make_usage: Any, clock: ManualClock
) -> None:
    """Nothing is written when a seat holder's last activity leaves the window, so a replica
    that keeps progress must know that moment itself (service_layer/live_view.py)."""
    rewards = await launch()
    await create(rewards, admin, rollout(min_seats=1))
    clock.advance(timedelta(minutes=5))  # the activity's window then ends off the quarter hours
    await kafka.send([license_created(tenant_id, date(2026, 11, 1)), *(seat(tenant_id, u) for u in "abcd")])
    await kafka.send([make_usage(ACCOUNT, clock.now(), user_id="a")])

    async def active(count: int) -> None:
        assert (await milestone(rewards, admin, "rollout"))["current"] == count

    await eventually(lambda: active(1), timeout=30)
    clock.advance(timedelta(days=30, seconds=-10))
    await active(1)  # read (and kept) ten seconds before the window ends
    await active(1)
    clock.advance(timedelta(seconds=10))
    await active(0)
