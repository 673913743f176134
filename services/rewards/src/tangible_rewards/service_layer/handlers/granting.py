"""Turning achievements into rewards inside the caller's transaction, exactly once.

The rewards table's unique key (tenant, account, rule key, reward period) decides: only
the rows this transaction actually inserted get a ledger grant and their events.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tangible_rewards.domain.evaluation import Achievement
from tangible_rewards.domain.ledger import NewBucket, Transaction, TransactionBuilder, TransactionKind
from tangible_rewards.domain.model import RewardKind
from tangible_rewards.service_layer import translate
from tangible_rewards.service_layer.ports import UnitOfWork

_REWARD_IDS = uuid.UUID("6f1d3c1e-5a8e-4b61-9f2a-1e0c7a52b0d3")


def reward_id(achievement: Achievement) -> str:
    """Stable per (tenant, account, rule key, reward period): a replay names the same reward."""
    a = achievement
    return str(
        uuid.uuid5(_REWARD_IDS, f"{a.tenant_id}\x1f{a.account_id}\x1f{a.rule.key}\x1f{a.reward_period}")
    )


class KnownRewards:
    """Reward ids this process saw committed. Rewards are never deleted, so skipping their
    claim is always safe; it spares a conflicting insert per account per batch once a
    threshold is passed. Bounded, least recently used first out."""

    def __init__(self, capacity: int = 200_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    def __contains__(self, reward: object) -> bool:
        if reward in self._ids:
            self._ids.move_to_end(str(reward))
            return True
        return False

    def add(self, ids: Iterable[str]) -> None:
        for rid in ids:
            self._ids[rid] = None
            self._ids.move_to_end(rid)
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)


@dataclass(frozen=True)
class Granted:
    rewarded: int
    attempted: frozenset[str]
    """Reward ids that exist once the transaction commits (for KnownRewards)."""


async def grant(
    uow: UnitOfWork, achievements: Iterable[Achievement], now: datetime, known: KnownRewards | None = None
) -> Granted:
    """Claim a reward per achievement; for those newly claimed, post credits and emit events."""
    unique: dict[str, Achievement] = {}
    for achievement in achievements:
        rid = reward_id(achievement)
        if known is None or rid not in known:
            unique.setdefault(rid, achievement)
    if not unique:
        return Granted(0, frozenset())
    # Imported history is dated by the event that met the rule: the reward row, its ledger
    # transaction and bucket, and the events' time (notifications skip past ones).
    by_time: dict[datetime, list[tuple[str, Achievement]]] = {}
    for rid, achievement in unique.items():
        by_time.setdefault(achievement.reached_at or now, []).append((rid, achievement))
    rewarded = 0
    for at, claims in by_time.items():
        rewarded += await _grant_at(uow, claims, at)
    return Granted(rewarded, frozenset(unique))


async def _grant_at(uow: UnitOfWork, claims: list[tuple[str, Achievement]], at: datetime) -> int:
    claimed = await uow.rewards.claim(claims, at)
    transactions: list[Transaction] = []
    buckets: list[NewBucket] = []
    for rid, achievement in claims:
        if rid not in claimed:
            continue
        reward = achievement.rule.reward
        if reward.kind is RewardKind.CREDITS and reward.credits:
            transaction, bucket = _credit_grant(rid, achievement, at)
            transactions.append(transaction)
            buckets.append(bucket)
        uow.outbox.add(translate.milestone_reached(achievement, at), time=at)
        uow.outbox.add(translate.reward_granted(rid, achievement, at), time=at)
    await uow.ledger.post(transactions, buckets, at)
    return len(claimed)


def _credit_grant(rid: str, achievement: Achievement, now: datetime) -> tuple[Transaction, NewBucket]:
    rule, reward = achievement.rule, achievement.rule.reward
    assert reward.credits is not None
    txn_id, bucket_id = str(uuid.uuid4()), str(uuid.uuid4())
    provenance = {
        "source": "milestone",
        "reward_id": rid,
        "rule_key": rule.key,
        "rule_id": rule.id,
        "rule_version": rule.version,
        "milestone_name": rule.name,
        "period_key": achievement.reward_period,
    }
    builder = TransactionBuilder(
        achievement.tenant_id, achievement.account_id, reward.credits_unit, provenance
    )
    transaction = builder.credit(txn_id, TransactionKind.GRANT, bucket_id, reward.credits)
    bucket = NewBucket(
        id=bucket_id,
        tenant_id=achievement.tenant_id,
        account_id=achievement.account_id,
        unit=reward.credits_unit,
        transaction_id=txn_id,
        granted=transaction.balance_change,
        created_at=now,
        expires_at=translate.credits_expire_at(achievement, now),
        priority=reward.credits_priority,
        reward_id=rid,
    )
    return transaction, bucket
