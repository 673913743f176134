"""Time-based work: expiring-soon notices, breakage, anniversaries, broken streaks, pruning.

Each job evaluates everything due *now* (not "since the last tick"), so a scheduler that
was down catches up on its next run. Rows are claimed with FOR UPDATE SKIP LOCKED and every
effect is guarded by a unique key or a state change, so several replicas never double up.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tangible_rewards.domain.evaluation import Achievement
from tangible_rewards.domain.ledger import ZERO, Burn, Transaction, TransactionBuilder, TransactionKind
from tangible_rewards.domain.licenses import LicenseState, anniversary_qualifying
from tangible_rewards.domain.model import AnniversaryParams
from tangible_rewards.domain.periods import completed_years, local_date
from tangible_rewards.service_layer import translate
from tangible_rewards.service_layer.handlers.granting import grant
from tangible_rewards.service_layer.policy import Policy, zones_for
from tangible_rewards.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock

DAY = timedelta(days=1)


async def announce_expiring_credits(*, uow: UnitOfWork, clock: Clock, policy: Policy) -> int:
    """CreditsExpiringSoon once per bucket, when it enters the lead time."""
    async with uow:
        now = clock.now()
        announced = await uow.ledger.announce_expiring(now, now + policy.expiry_lead, policy.scheduler_batch)
        for key, bucket in announced:
            uow.outbox.add(translate.credits_expiring_soon(key, bucket), time=now)
        await uow.commit()
    return len(announced)


async def expire_credits(*, uow: UnitOfWork, clock: Clock, policy: Policy) -> int:
    """Book what is left of expired buckets as breakage; returns buckets closed."""
    async with uow:
        now = clock.now()
        candidates = await uow.ledger.accounts_with_expired_credit(now, policy.scheduler_batch)
        locked = await uow.ledger.lock_balances_skip_locked(candidates)
        due = await uow.ledger.expired_buckets(locked, now)
        transactions: list[Transaction] = []
        for key, buckets in due.items():
            for bucket in (b for b in buckets if b.remaining > ZERO):
                provenance = {
                    "bucket_id": bucket.id,
                    "reward_id": bucket.reward_id,
                    "expires_at": bucket.expires_at,
                }
                builder = TransactionBuilder(*key, provenance)
                transactions.append(
                    builder.debit(
                        f"expiry-{bucket.id}", TransactionKind.EXPIRY, [Burn(bucket, bucket.remaining)]
                    )
                )
        await uow.ledger.post(transactions, [], now)
        await uow.ledger.set_status([b.id for buckets in due.values() for b in buckets], "expired")
        balances = await uow.ledger.balances(due)
        for key, buckets in due.items():
            expiring = [b for b in buckets if b.remaining > ZERO]
            running = balances[key] + sum((b.remaining for b in expiring), ZERO)
            for bucket in expiring:
                running -= bucket.remaining
                uow.outbox.add(translate.credits_expired(key, bucket, running), time=now)
        await uow.commit()
    return sum(len(b) for b in due.values())


async def grant_anniversaries(*, uow: UnitOfWork, clock: Clock, policy: Policy) -> int:
    """Anniversaries of continuous license reached by today (each account's local day)."""
    rewarded, cursor = 0, ("", "")
    while True:
        async with uow:
            now = clock.now()
            due = await uow.licenses.anniversaries_due(now.date() + DAY, cursor, policy.scheduler_batch)
            if not due:
                return rewarded
            cursor = (due[-1].tenant_id, due[-1].license_id)
            rules = await uow.rules.enabled_for(s.tenant_id for s in due)
            zone_of = await zones_for(uow, {(s.tenant_id, s.account_id) for s in due}, policy)
            achieved: list[Achievement] = []
            seen: list[LicenseState] = []
            for state in due:
                today = local_date(now, zone_of(state.tenant_id, state.account_id))
                years = completed_years(state.continuous_since, today)
                if years <= state.years_seen:
                    continue  # not yet in this account's time zone
                seen.append(replace(state, years_seen=years))
                for rule in rules.get(state.tenant_id, []):
                    if isinstance(rule.params, AnniversaryParams):
                        qualifying = anniversary_qualifying(state, rule.params, rule.repeat, today)
                        if qualifying:
                            achieved.append(
                                Achievement(state.tenant_id, state.account_id, rule, qualifying, years)
                            )
            await uow.licenses.upsert(seen)
            rewarded += (await grant(uow, achieved, now)).rewarded
            await uow.commit()


async def reset_broken_streaks(*, uow: UnitOfWork, clock: Clock, policy: Policy) -> int:
    """Streaks whose last unbroken day has passed (in the account's zone) fall to zero."""
    async with uow:
        now = clock.now()
        # no zone is more than a day ahead of UTC: anything older is a candidate
        rows = await uow.progress.streaks_past(now.date() + DAY, policy.scheduler_batch)
        zone_of = await zones_for(uow, {(r.tenant_id, r.account_id) for r in rows}, policy)
        broken = [
            replace(r, value=0)
            for r in rows
            if r.alive_until is not None
            and r.alive_until < local_date(now, zone_of(r.tenant_id, r.account_id))
        ]
        await uow.progress.set_streaks(broken)
        await uow.commit()
    return len(broken)


async def prune(*, uow: UnitOfWork, clock: Clock, policy: Policy) -> int:
    """Forget idempotency keys older than any retry could be (the inbox is pruned by the
    runtime's `inbox_pruner`)."""
    async with uow:
        pruned = await uow.idempotency.prune(clock.now() - policy.idempotency_retention)
        await uow.commit()
    return pruned
