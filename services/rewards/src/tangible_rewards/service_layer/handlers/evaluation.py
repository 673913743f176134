"""Consumer handlers: usage and entitlements batches, each one transaction, exactly once.

Inbox claims, state changes, reward claims, ledger grants and outbox rows commit together;
a redelivered or concurrently consumed event finds its id claimed and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from tangible_rewards.domain import commands
from tangible_rewards.domain.evaluation import (
    Achievement,
    Lateness,
    RuleIndex,
    Usage,
    fold_usage,
    threshold_achievements,
)
from tangible_rewards.domain.licenses import LicenseFact, fold_licenses
from tangible_rewards.service_layer.handlers.evaluators import (
    evaluate_adoption,
    evaluate_streaks,
    evaluate_time_to_value,
)
from tangible_rewards.service_layer.handlers.granting import KnownRewards, grant
from tangible_rewards.service_layer.policy import Policy, zones_for
from tangible_rewards.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock

T = TypeVar("T")


@dataclass(frozen=True)
class BatchOutcome:
    fresh: int
    too_late: int = 0
    rewarded: int = 0


def _first_of_each(items: Sequence[tuple[str, T]], fresh: set[str]) -> list[T]:
    """Items whose id this transaction claimed, once each (a batch may repeat an id)."""
    seen: set[str] = set()
    result: list[T] = []
    for event_id, item in items:
        if event_id in fresh and event_id not in seen:
            seen.add(event_id)
            result.append(item)
    return result


async def evaluate_usage(
    command: commands.EvaluateUsage,
    *,
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    known: KnownRewards | None = None,
) -> BatchOutcome:
    async with uow:
        fresh = await uow.inbox(command.consumer).claim(u.event_id for u in command.usages)
        usages: list[Usage] = _first_of_each([(u.event_id, u) for u in command.usages], fresh)
        if not usages:
            await uow.commit()
            return BatchOutcome(0)
        now = clock.now()
        rules = await uow.rules.enabled_for(u.tenant_id for u in usages)
        indexes = {tenant: RuleIndex.of(tenant_rules) for tenant, tenant_rules in rules.items()}
        zone_of = await zones_for(
            uow, {(u.tenant_id, u.account_id) for u in usages if u.tenant_id in indexes}, policy
        )
        fold = fold_usage(usages, indexes, zone_of, Lateness(now, policy.late_window))
        achieved: list[Achievement] = threshold_achievements(
            await uow.progress.add_counters(fold.counters), indexes, fold
        )
        # a streak only moves when an account has a new active day
        new_days = await uow.activity.add_days(fold.days)
        achieved += await evaluate_streaks(uow, indexes, new_days, zone_of, now, fold.imported_days)
        moved = {(k.tenant_id, k.account_id, k.activity_key) for k in fold.days}
        achieved += await evaluate_time_to_value(
            uow, indexes, moved, zone_of, now, policy, fold.imported_days
        )
        await uow.activity.touch_members(fold.members)
        member_accounts = {(k.tenant_id, k.account_id) for k in fold.members}
        achieved += await evaluate_adoption(uow, indexes, member_accounts, zone_of, now)
        granted = await grant(uow, achieved, now, known)
        await uow.commit()
    if known is not None:
        known.add(granted.attempted)
    return BatchOutcome(len(usages), fold.too_late, granted.rewarded)


async def apply_entitlement_events(
    command: commands.ApplyEntitlementEvents, *, uow: UnitOfWork, clock: Clock, policy: Policy
) -> BatchOutcome:
    """License continuity and seat assignments; then time-to-value for new licenses and
    adoption for accounts whose seats changed (a seat taken back can raise the share)."""
    async with uow:
        fresh = await uow.inbox(command.consumer).claim(event_id for event_id, _ in command.facts)
        facts = _first_of_each(list(command.facts), fresh)
        license_facts = [f for f in facts if isinstance(f, LicenseFact)]
        seat_facts = [f for f in facts if isinstance(f, commands.SeatFact)]
        known = await uow.licenses.get_many((f.tenant_id, f.license_id) for f in license_facts)
        states = fold_licenses(known, license_facts)
        await uow.licenses.upsert(list(states.values()))
        final: dict[tuple[str, str, str], commands.SeatFact] = {}
        for seat in seat_facts:
            final[(seat.tenant_id, seat.change.license_id, seat.change.user_id)] = seat
        await uow.licenses.assign_seats(
            [
                (s.tenant_id, s.account_id, s.change.license_id, s.change.user_id)
                for s in final.values()
                if s.change.assigned
            ]
        )
        await uow.licenses.unassign_seats([k for k, s in final.items() if not s.change.assigned])
        now = clock.now()
        created = {(f.tenant_id, f.account_id) for f in license_facts if f.kind == "created"}
        seated = {(s.tenant_id, s.account_id) for s in final.values()}
        tenants = {a[0] for a in created | seated}
        rules = await uow.rules.enabled_for(tenants)
        indexes = {tenant: RuleIndex.of(tenant_rules) for tenant, tenant_rules in rules.items()}
        zone_of = await zones_for(uow, created | seated, policy)
        licensed = {(tenant, account, None) for tenant, account in created}
        achieved = await evaluate_time_to_value(uow, indexes, licensed, zone_of, now, policy)
        achieved += await evaluate_adoption(uow, indexes, seated, zone_of, now)
        granted = await grant(uow, achieved, now)
        await uow.commit()
    return BatchOutcome(len(facts), 0, granted.rewarded)
