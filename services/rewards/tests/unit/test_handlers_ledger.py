"""The credit ledger through its handlers: grants balance, redemptions are idempotent and never
overspend, expiry books breakage, a void takes back what is left of a grant."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.rewards.tests.unit.harness import ACCOUNT, TENANT, Harness, usage
from tangible_rewards.domain import commands
from tangible_rewards.domain.errors import (
    GrantNotVoidable,
    IdempotencyKeyReused,
    InsufficientCredits,
    RewardNotFound,
)
from tangible_rewards.domain.model import RuleKind, ThresholdParams
from tangible_rewards.service_layer import handlers, views
from tangible_rewards.service_layer.handlers.ledger import Outcome, Redemption
from tangible_schemas.rewards import CreditsAdjusted, CreditsExpired, CreditsRedeemed, RewardGranted

KEY = (TENANT, ACCOUNT, "credits")


def render(result: Redemption | InsufficientCredits) -> tuple[int, dict[str, Any]]:
    if isinstance(result, InsufficientCredits):
        return 422, {"balance": result.details["balance"]}
    return 201, {"redemption_id": result.id, "balance_after": result.balance_after}


async def redeem(harness: Harness, key: str, amount: str, request_hash: str | None = None) -> Outcome:
    command = commands.Redeem(
        TENANT, ACCOUNT, Decimal(amount), "credits", key, request_hash or f"body-{amount}", None, "admin"
    )
    return await handlers.redeem(command, uow=harness.uow, clock=harness.clock, render=render)


async def adjust(harness: Harness, amount: str, **options: Any) -> None:
    command = commands.Adjust(TENANT, ACCOUNT, Decimal(amount), "credits", "admin", "goodwill", **options)
    await handlers.adjust(command, uow=harness.uow, clock=harness.clock)


async def balance(harness: Harness) -> Decimal:
    total, _ = await views.balance(
        harness.uow, tenant_id=TENANT, account_id=ACCOUNT, unit="credits", now=harness.clock.now()
    )
    return total


async def earn_credits(harness: Harness) -> str:
    """A 100-credit reward (expiring in 30 days); returns its id."""
    await harness.rule("champion", RuleKind.USAGE_THRESHOLD, ThresholdParams("report.generated", 1))
    await harness.use(usage(harness.clock.now()))
    [reward] = harness.events(RewardGranted)
    return reward.reward_id


async def test_a_credits_reward_posts_one_balanced_grant_into_its_own_bucket(harness: Harness) -> None:
    await earn_credits(harness)

    ledger = harness.uow.committed.ledger
    [grant] = ledger.transactions.values()
    assert sum(e.amount for e in grant.entries) == 0
    assert sorted((e.ledger_account.value, e.amount) for e in grant.entries) == [
        ("account_balance", Decimal("100.00")),
        ("rewards_issued", Decimal("-100.00")),
    ]
    [bucket] = ledger.buckets.values()
    assert bucket.remaining == Decimal("100.00")
    assert bucket.new.expires_at == harness.clock.now() + timedelta(days=30)
    assert await balance(harness) == Decimal("100.00")


async def test_the_same_key_and_body_replays_the_first_outcome(harness: Harness) -> None:
    await adjust(harness, "50")
    first = await redeem(harness, "order-1", "30")
    replay = await redeem(harness, "order-1", "30")

    assert (first.status_code, first.replayed, replay.replayed) == (201, False, True)
    assert replay.body == {**first.body, "balance_after": "20.00"}  # as stored (JSON)
    assert await balance(harness) == Decimal("20.00")
    assert len(harness.events(CreditsRedeemed)) == 1


async def test_the_same_key_with_another_body_is_a_conflict(harness: Harness) -> None:
    await adjust(harness, "50")
    await redeem(harness, "order-1", "30")

    with pytest.raises(IdempotencyKeyReused):
        await redeem(harness, "order-1", "31")
    assert await balance(harness) == Decimal("20.00")


async def test_an_insufficient_balance_is_refused_and_the_refusal_replayed(harness: Harness) -> None:
    await adjust(harness, "20")
    refused = await redeem(harness, "order-2", "25")
    await adjust(harness, "10")
    again = await redeem(harness, "order-2", "25")

    assert (refused.status_code, refused.body) == (422, {"balance": "20.00"})
    assert (again.status_code, again.replayed) == (422, True)
    assert await balance(harness) == Decimal("30.00")
    assert harness.events(CreditsRedeemed) == []


async def test_a_negative_adjustment_beyond_the_balance_changes_nothing(harness: Harness) -> None:
    await adjust(harness, "20")
    with pytest.raises(InsufficientCredits):
        await adjust(harness, "-25")

    assert await balance(harness) == Decimal("20.00")
    assert len(harness.events(CreditsAdjusted)) == 1


async def test_expired_credit_is_booked_as_breakage_once(harness: Harness) -> None:
    await adjust(harness, "50", expires_at=harness.clock.now() + timedelta(days=1))
    await adjust(harness, "5")
    await redeem(harness, "order-1", "20")
    harness.clock.advance(timedelta(days=2))

    assert [await harness.run(handlers.expire_credits) for _ in range(2)] == [1, 0]
    [expiry] = [t for t in harness.uow.committed.ledger.transactions.values() if t.kind.value == "expiry"]
    assert sorted((e.ledger_account.value, e.amount) for e in expiry.entries) == [
        ("account_balance", Decimal("-30.00")),
        ("breakage", Decimal("30.00")),
    ]
    [expired] = harness.events(CreditsExpired)
    assert (expired.amount, expired.balance_after) == (Decimal("30.00"), Decimal("5.00"))
    assert await balance(harness) == Decimal("5.00")


async def test_credits_soon_to_expire_are_announced_once(harness: Harness) -> None:
    await adjust(harness, "50", expires_at=harness.clock.now() + timedelta(days=3))

    assert [await harness.run(handlers.announce_expiring_credits) for _ in range(2)] == [1, 0]


async def test_voiding_a_grant_takes_back_what_is_left_of_it(harness: Harness) -> None:
    reward_id = await earn_credits(harness)
    await redeem(harness, "order-1", "40")
    void = commands.VoidGrant(TENANT, ACCOUNT, reward_id, "admin", "granted by mistake")
    change = await handlers.void_grant(void, uow=harness.uow, clock=harness.clock)

    assert (change.amount, change.balance_after) == (Decimal("-60.00"), Decimal("0.00"))
    [voided] = harness.events(CreditsAdjusted)
    assert (voided.kind, voided.amount, voided.reward_id) == ("void", Decimal("-60.00"), reward_id)
    assert harness.uow.committed.rewards[reward_id].status == "voided"
    with pytest.raises(GrantNotVoidable):
        await handlers.void_grant(void, uow=harness.uow, clock=harness.clock)
    with pytest.raises(RewardNotFound):
        await handlers.void_grant(replace(void, reward_id="nope"), uow=harness.uow, clock=harness.clock)
