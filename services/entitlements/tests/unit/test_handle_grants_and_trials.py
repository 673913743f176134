"""Grant and trial handlers on the in-memory unit of work: reward grants apply once, expiries
and trial ends are announced once, a trial's end puts the license back as it was."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from entitlements_unit.fakes import Store

from tangible_entitlements.domain import commands
from tangible_entitlements.domain.errors import TrialNotEligible
from tangible_entitlements.domain.metering import Usage
from tangible_entitlements.domain.model import FeatureValue, License, Trial
from tangible_entitlements.service_layer import handlers
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_runtime.domain import ManualClock
from tangible_schemas.entitlements import (
    GrantApplied,
    GrantExpired,
    ThresholdRecovered,
    TrialConverted,
    TrialEnded,
    TrialEndingSoon,
    TrialStarted,
)

NewUow = Callable[[], UnitOfWork]


def reward(license: License, grant_id: str, expires_at: datetime) -> commands.GrantBenefit:
    return commands.GrantBenefit(
        license.tenant_id,
        license.account_id,
        grant_id,
        "reports",
        "feature_override",
        {"limit": 1000},
        source=f"reward:{grant_id}",
        starts_at=expires_at - timedelta(days=30),
        expires_at=expires_at,
    )


async def test_a_reward_grant_applies_once_however_often_it_is_delivered(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    grant = reward(license, "g1", clock.now() + timedelta(days=7))
    batch = commands.ApplyRewardGrants("entitlements.rewards", [("ev1", grant), ("ev2", None)])

    await handlers.apply_reward_grants(batch, uow=uow(), clock=clock)
    await handlers.apply_reward_grants(batch, uow=uow(), clock=clock)
    await handlers.apply_reward_grants(
        commands.ApplyRewardGrants("entitlements.rewards", [("ev3", grant)]), uow=uow(), clock=clock
    )

    assert [e.grant_id for e in store.of(GrantApplied)] == ["g1"]
    assert [(h.action, h.license_id) for h in store.history[1:]] == [("grant_applied", license.id)]


async def test_a_grant_that_raises_the_limit_recovers_the_crossed_thresholds(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    used = Usage("e1", license.tenant_id, license.account_id, "report.generated", clock.now(), 60, None, {})
    await handlers.record_usage(commands.RecordUsage("usage", [used], {}), uow=uow(), clock=clock)

    grant = reward(license, "g1", clock.now() + timedelta(days=7))
    await handlers.grant_benefit(grant, uow=uow(), clock=clock)

    [recovered] = store.of(ThresholdRecovered)  # the plan's 100 and the grant's 1000 add up
    assert (recovered.threshold_percent, recovered.cause, recovered.limit) == (50, "limit_increased", 1100)


async def test_an_expired_grant_is_announced_once(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    await handlers.grant_benefit(
        reward(license, "g1", clock.now() + timedelta(days=1)), uow=uow(), clock=clock
    )

    before = await handlers.expire_grants(uow=uow(), clock=clock)
    clock.advance(timedelta(days=2))
    announced = await handlers.expire_grants(uow=uow(), clock=clock)
    again = await handlers.expire_grants(uow=uow(), clock=clock)

    assert (before, announced, again) == (0, 1, 0)
    [event] = store.of(GrantExpired)
    assert (event.grant_id, event.account_id, event.feature_key) == ("g1", license.account_id, "reports")


async def start_trial(
    license: License, uow: NewUow, clock: ManualClock, store: Store, days: int = 14
) -> Trial:
    """A trial of add-on `boost` (1000 reports), published first if need be."""
    if (license.tenant_id, "boost", 1) not in store.items:
        draft = commands.CreateCatalogItem(
            license.tenant_id, "boost", "addon", "Boost", {"reports": FeatureValue(limit=1000)}
        )
        await handlers.create_catalog_item(draft, uow=uow())
        publish = commands.PublishCatalogItem(license.tenant_id, "boost", 1)
        await handlers.publish_catalog_item(publish, uow=uow(), clock=clock)
    command = commands.StartTrial(
        license.tenant_id, license.id, "admin", None, target_kind="addon", target_key="boost", days=days
    )
    return await handlers.start_trial(command, uow=uow(), clock=clock)


async def test_a_trial_is_in_force_at_once_and_once_per_target(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    trial = await start_trial(license, uow, clock, store)

    assert (trial.status, trial.features, trial.ends_at) == (
        "active",
        ("reports",),
        clock.now() + timedelta(days=14),
    )
    assert [t.id for t in store.licenses[(license.tenant_id, license.id)].trials] == [trial.id]
    assert [e.trial_id for e in store.of(TrialStarted)] == [trial.id]
    await handlers.end_trial(
        commands.EndTrial(
            license.tenant_id, license.id, "admin", None, trial_id=trial.id, outcome="cancelled"
        ),
        uow=uow(),
        clock=clock,
    )
    with pytest.raises(TrialNotEligible):
        await start_trial(license, uow, clock, store)


@pytest.mark.parametrize(("outcome", "addons"), [("cancelled", {}), ("converted", {"boost": 1})])
async def test_ending_a_trial_rolls_back_or_keeps_it(
    outcome: str, addons: dict[str, int], license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    trial = await start_trial(license, uow, clock, store)
    command = commands.EndTrial(
        license.tenant_id, license.id, "admin", None, trial_id=trial.id, outcome=outcome
    )

    after = await handlers.end_trial(command, uow=uow(), clock=clock)

    assert (after.addons, after.trials) == (addons, ())
    assert store.trials[trial.id].status == outcome
    event_type = TrialConverted if outcome == "converted" else TrialEnded
    assert [e.trial_id for e in store.of(event_type)] == [trial.id]


async def test_a_trial_is_announced_before_its_end_and_expires_once(
    license: License, uow: NewUow, clock: ManualClock, store: Store
) -> None:
    await start_trial(license, uow, clock, store, days=10)

    clock.advance(timedelta(days=6))
    early = await handlers.announce_trials_ending(uow=uow(), clock=clock, default_days=3)
    clock.advance(timedelta(days=1, hours=1))
    announced = await handlers.announce_trials_ending(uow=uow(), clock=clock, default_days=3)
    again = await handlers.announce_trials_ending(uow=uow(), clock=clock, default_days=3)
    clock.advance(timedelta(days=3))
    expired = await handlers.expire_trials(uow=uow(), clock=clock)
    expired_again = await handlers.expire_trials(uow=uow(), clock=clock)

    assert (early, announced, again, expired, expired_again) == (0, 1, 0, 1, 0)
    assert [e.days_left for e in store.of(TrialEndingSoon)] == [3]
    assert [e.outcome for e in store.of(TrialEnded)] == ["expired"]
    assert store.licenses[(license.tenant_id, license.id)].trials == ()
