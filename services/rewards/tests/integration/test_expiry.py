"""Credit expiry: announced once within the lead time, then booked as breakage, on two schedulers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from tangible_devstack.testing import eventually
from tangible_runtime.domain import ManualClock
from tangible_schemas.rewards import CreditsExpired, CreditsExpiringSoon

pytestmark = pytest.mark.integration

ACCOUNT = "acct-expiry"
FIRST_REPORT = {
    "key": "first-report",
    "name": "First report",
    "kind": "usage_threshold",
    "params": {"usage_type": "report.generated", "target": 1},
    "reward": {"kind": "credits", "credits": "30", "credits_expire_days": 10},
}


async def test_expiring_credits_are_announced_once_then_booked_as_breakage(
    launch: Any, clock: ManualClock, admin: dict[str, str], db: Any, kafka: Any, make_usage: Any
) -> None:
    start = clock.now()
    rewards = await launch()  # every role, a scheduler ticking every 0.1 s
    await launch(roles=("scheduler",))  # and a second scheduler replica
    assert (await rewards.post("/v1/milestones", json=FIRST_REPORT, headers=admin)).status_code == 201
    await kafka.send([make_usage(ACCOUNT)])
    lasting = {"amount": "20", "reason": "goodwill"}
    assert (
        await rewards.post(f"/v1/accounts/{ACCOUNT}/adjustments", json=lasting, headers=admin)
    ).status_code == 201

    async def granted() -> None:
        balance = (await rewards.get(f"/v1/accounts/{ACCOUNT}/balance", headers=admin)).json()
        assert balance["total"] == "50.00", balance

    await eventually(granted, timeout=30)
    spend = {"amount": "5"}
    spent = await rewards.post(
        f"/v1/accounts/{ACCOUNT}/redemptions", json=spend, headers={**admin, "Idempotency-Key": "k1"}
    )
    assert spent.json()["burned"][0]["amount"] == "5.00"  # from the expiring grant first

    clock.set(start + timedelta(days=2))  # expiry in 8 days: outside the 7-day lead
    await asyncio.sleep(0.5)
    assert await db.scalar("SELECT count(*) FROM credit_buckets WHERE expiry_announced_at IS NOT NULL") == 0

    clock.set(start + timedelta(days=4))  # inside the lead

    async def announced() -> list[CreditsExpiringSoon]:
        events: list[CreditsExpiringSoon] = await kafka.rewards_events(CreditsExpiringSoon.event_type)
        assert len(events) == 1
        return events

    [soon] = await eventually(announced, timeout=15)
    assert (str(soon.amount), soon.expires_at) == ("25.00", start + timedelta(days=10))
    assert soon.reward_id is not None

    clock.set(start + timedelta(days=10, seconds=1))

    async def expired() -> list[CreditsExpired]:
        events: list[CreditsExpired] = await kafka.rewards_events(CreditsExpired.event_type)
        assert len(events) == 1
        return events

    [gone] = await eventually(expired, timeout=15)
    assert (str(gone.amount), str(gone.balance_after)) == ("25.00", "20.00")
    await asyncio.sleep(0.5)  # more ticks on both replicas change nothing
    assert len(await kafka.rewards_events(CreditsExpired.event_type)) == 1
    assert len(await kafka.rewards_events(CreditsExpiringSoon.event_type)) == 1
    assert await db.scalar("SELECT sum(amount) FROM ledger_entries WHERE ledger_account = 'breakage'") == 25
    assert await db.scalar("SELECT balance FROM account_balances WHERE account_id = :a", a=ACCOUNT) == 20

    history = (await rewards.get(f"/v1/accounts/{ACCOUNT}/ledger", headers=admin)).json()
    latest = history["entries"][0]
    assert (latest["kind"], latest["amount"]) == ("expiry", "-25.00")
    assert latest["provenance"]["bucket_id"] == latest["bucket_id"]
    balance = (await rewards.get(f"/v1/accounts/{ACCOUNT}/balance", headers=admin)).json()
    assert balance["buckets"] == [{"amount": "20.00", "expires_at": None}]
