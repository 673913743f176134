"""Spending and correcting credits: redemptions (idempotent), admin adjustments, voids.

Every writer locks the account's balance row first (one lock order everywhere), so two
concurrent spends are serialised and the second sees what the first left.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tangible_rewards.domain import commands
from tangible_rewards.domain.errors import (
    GrantNotVoidable,
    IdempotencyKeyReused,
    InsufficientCredits,
    RewardNotFound,
)
from tangible_rewards.domain.ledger import (
    ZERO,
    Burn,
    NewBucket,
    Transaction,
    TransactionBuilder,
    TransactionKind,
    money,
    plan_burn,
)
from tangible_rewards.service_layer import translate
from tangible_rewards.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock, Conflict, Rejected


@dataclass(frozen=True)
class Redemption:
    id: str
    transaction_id: str
    account_id: str
    unit: str
    amount: Decimal
    balance_after: Decimal
    burns: tuple[Burn, ...]
    description: str | None
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What the redemption endpoint answers; `replayed` when it comes from the idempotency key."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


Render = Callable[[Redemption | InsufficientCredits], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class LedgerChange:
    transaction_id: str
    account_id: str
    unit: str
    amount: Decimal
    balance_after: Decimal
    created_at: datetime


async def claim_or_replay(
    uow: UnitOfWork, tenant_id: str, account_id: str, key: str, request_hash: str, now: datetime
) -> Outcome | None:
    """None when this transaction owns the Idempotency-Key; else the stored outcome to replay
    (same request) or a 409 (another request under the same key)."""
    if await uow.idempotency.claim(tenant_id, account_id, key, request_hash, now):
        return None
    stored = await uow.idempotency.stored(tenant_id, account_id, key)
    if stored is None:
        raise Conflict("a request with this Idempotency-Key is still in progress")
    if stored.request_hash != request_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
    return Outcome(stored.status_code, stored.response, replayed=True)


async def redeem(command: commands.Redeem, *, uow: UnitOfWork, clock: Clock, render: Render) -> Outcome:
    """Same key + same body → the stored outcome; same key + another body → 409."""
    c = command
    key = (c.tenant_id, c.account_id, c.unit)
    async with uow:
        now = clock.now()
        replay = await claim_or_replay(uow, c.tenant_id, c.account_id, c.idempotency_key, c.request_hash, now)
        if replay is not None:
            return replay
        await uow.ledger.lock_balance(key)
        try:
            burns = plan_burn(await uow.ledger.open_buckets(key), c.amount, now)
        except InsufficientCredits as refused:
            status, body = render(refused)
            await uow.idempotency.store(c.tenant_id, c.account_id, c.idempotency_key, status, body)
            await uow.commit()
            return Outcome(status, body)
        redemption_id, txn_id = str(uuid.uuid4()), str(uuid.uuid4())
        provenance = {
            "redemption_id": redemption_id,
            "idempotency_key": c.idempotency_key,
            "description": c.description,
            "actor": c.actor,
        }
        transaction = TransactionBuilder(*key, provenance).debit(txn_id, TransactionKind.REDEMPTION, burns)
        await uow.ledger.post([transaction], [], now)
        balance = (await uow.ledger.balances([key]))[key]
        redemption = Redemption(
            redemption_id,
            txn_id,
            c.account_id,
            c.unit,
            money(c.amount),
            balance,
            tuple(burns),
            c.description,
            now,
        )
        status, body = render(redemption)
        await uow.idempotency.store(c.tenant_id, c.account_id, c.idempotency_key, status, body)
        uow.outbox.add(
            translate.credits_redeemed(key, redemption_id, redemption.amount, balance, c.description),
            time=now,
        )
        await uow.commit()
    return Outcome(status, body)


async def adjust(command: commands.Adjust, *, uow: UnitOfWork, clock: Clock) -> LedgerChange:
    """Positive: a new bucket (own expiry and priority). Negative: burned like a redemption."""
    c = command
    key = (c.tenant_id, c.account_id, c.unit)
    amount = money(c.amount)
    if amount == ZERO:
        raise Rejected("an adjustment needs a non-zero amount")
    async with uow:
        now = clock.now()
        if c.expires_at is not None and c.expires_at <= now:
            raise Rejected("expires_at must be in the future")
        builder = TransactionBuilder(*key, {"actor": c.actor, "reason": c.reason})
        txn_id = str(uuid.uuid4())
        buckets: list[NewBucket] = []
        if amount > ZERO:
            bucket_id = str(uuid.uuid4())
            transaction = builder.credit(txn_id, TransactionKind.ADJUSTMENT, bucket_id, amount)
            buckets.append(NewBucket(bucket_id, *key, txn_id, amount, now, c.expires_at, c.priority))
        else:
            await uow.ledger.lock_balance(key)
            burns = plan_burn(await uow.ledger.open_buckets(key), -amount, now)
            transaction = builder.debit(txn_id, TransactionKind.ADJUSTMENT, burns)
        change = await _post(uow, transaction, buckets, now)
        uow.outbox.add(
            translate.credits_adjusted(
                key, txn_id, amount, change.balance_after, actor=c.actor, reason=c.reason
            ),
            time=now,
        )
        await uow.commit()
    return change


async def void_grant(command: commands.VoidGrant, *, uow: UnitOfWork, clock: Clock) -> LedgerChange:
    """Take back what is left of one reward's credits (what was spent stays spent)."""
    c = command
    async with uow:
        now = clock.now()
        reward = await uow.rewards.get(c.tenant_id, c.account_id, c.reward_id, lock=True)
        if reward is None:
            raise RewardNotFound(f"no reward '{c.reward_id}' for this account")
        found = await uow.ledger.bucket_of_reward(reward.id)
        if reward.status == "voided" or found is None:
            raise GrantNotVoidable("only a credits grant that is not voided yet can be voided")
        key = (c.tenant_id, c.account_id, found[1])
        await uow.ledger.lock_balance(key)
        bucket, _, status = await uow.ledger.bucket_of_reward(reward.id) or found  # re-read under the lock
        provenance = {
            "reward_id": reward.id,
            "rule_key": reward.rule_key,
            "rule_version": reward.rule_version,
            "actor": c.actor,
            "reason": c.reason,
        }
        txn_id = str(uuid.uuid4())
        taken = bucket.remaining if status == "open" else ZERO
        if taken > ZERO:
            transaction = TransactionBuilder(*key, provenance).debit(
                txn_id, TransactionKind.VOID, [Burn(bucket, taken)]
            )
            change = await _post(uow, transaction, [], now)
        else:
            balance = (await uow.ledger.balances([key]))[key]
            change = LedgerChange(txn_id, c.account_id, key[2], ZERO, balance, now)
        await uow.ledger.set_status([bucket.id], "voided")
        await uow.rewards.mark_voided(reward.id, now)
        uow.outbox.add(
            translate.credits_adjusted(
                key, txn_id, -taken, change.balance_after, actor=c.actor, reason=c.reason, reward_id=reward.id
            ),
            time=now,
        )
        await uow.commit()
    return change


async def _post(
    uow: UnitOfWork, transaction: Transaction, buckets: list[NewBucket], now: datetime
) -> LedgerChange:
    await uow.ledger.post([transaction], buckets, now)
    key = (transaction.tenant_id, transaction.account_id, transaction.unit)
    balance = (await uow.ledger.balances([key]))[key]
    return LedgerChange(
        transaction.id, transaction.account_id, transaction.unit, transaction.balance_change, balance, now
    )
