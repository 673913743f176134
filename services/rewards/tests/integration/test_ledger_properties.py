"""Property: any sequence of grants, redemptions, expiries, adjustments and voids keeps the ledger
honest in PostgreSQL — every transaction balances, every bucket and balance equals the sum of
its entries, nothing goes negative, and the balance is what a plain model of the rules says.

It drives the real handlers on the real (migrated) database, with a bounded number of examples
so the suite stays fast; the pure burn-order property runs many more in tests/unit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tangible_rewards.adapters.tables import outbox
from tangible_rewards.domain import commands
from tangible_rewards.domain.errors import InsufficientCredits
from tangible_rewards.domain.evaluation import Achievement
from tangible_rewards.domain.ledger import ZERO, Bucket, money, plan_burn
from tangible_rewards.domain.model import MilestoneRule, Reward, RewardKind, RuleKind, ThresholdParams
from tangible_rewards.service_layer import handlers
from tangible_rewards.service_layer.handlers.granting import grant
from tangible_rewards.service_layer.policy import Policy
from tangible_rewards.service_layer.unit_of_work import UnitOfWork
from tangible_runtime.db import create_session_factory
from tangible_runtime.domain import DomainError, ManualClock

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
START = datetime.fromisoformat("2026-11-26T12:00:00+00:00")
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(500), places=2)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), amounts, st.one_of(st.none(), st.integers(1, 30)), st.integers(-1, 1)),
        st.tuples(st.just("redeem"), amounts),
        st.tuples(st.just("adjust"), st.decimals(min_value=-500, max_value=500, places=2).filter(bool)),
        st.tuples(st.just("advance"), st.integers(1, 20)),
        st.tuples(st.just("void"), st.integers(0, 9)),
    ),
    min_size=1,
    max_size=12,
)


@dataclass
class Model:
    """The rules in their plainest form: buckets with remaining credit and an expiry."""

    buckets: dict[str, Bucket] = field(default_factory=dict)
    rewards: list[str] = field(default_factory=list)

    def spendable(self, now: datetime) -> Decimal:
        return sum((b.remaining for b in self.buckets.values() if not _expired(b, now)), ZERO)

    def take(self, burns: list[Any]) -> None:
        for burn in burns:
            b = self.buckets[burn.bucket.id]
            self.buckets[b.id] = Bucket(
                b.id, b.remaining - burn.amount, b.expires_at, b.created_at, b.priority, b.reward_id
            )


def _expired(bucket: Bucket, now: datetime) -> bool:
    return bucket.expires_at is not None and bucket.expires_at <= now


INVARIANTS = {
    "unbalanced transactions": """
        SELECT count(*) FROM (
            SELECT 1 FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0) x""",
    "transactions without entries": """
        SELECT count(*) FROM ledger_transactions t
        WHERE NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id)""",
    "buckets off their entries": """
        SELECT count(*) FROM credit_buckets c
        WHERE c.remaining <> (SELECT coalesce(sum(amount), 0) FROM ledger_entries e
                              WHERE e.bucket_id = c.id)""",
    "balances off their entries": """
        SELECT count(*) FROM account_balances b
        WHERE b.balance <> (SELECT coalesce(sum(amount), 0) FROM ledger_entries e
                            WHERE e.ledger_account = 'account_balance' AND e.tenant_id = b.tenant_id
                              AND e.account_id = b.account_id AND e.unit = b.unit)""",
    "negative balances": "SELECT count(*) FROM account_balances WHERE balance < 0",
    "negative buckets": "SELECT count(*) FROM credit_buckets WHERE remaining < 0",
}


@pytest.fixture
async def ledger_db(database_factory: Any, owner_url: Any) -> Any:
    url = await database_factory("rewards", MIGRATIONS)
    engine = create_async_engine(owner_url(url), pool_size=2)  # the invariants read every row
    yield engine
    await engine.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
async def test_random_ledger_histories_keep_every_invariant(
    ledger_db: Any, ops: list[tuple[Any, ...]]
) -> None:
    sessions = create_session_factory(ledger_db)
    clock = ManualClock(START)
    policy = Policy()
    account = f"acct-{uuid.uuid4().hex[:8]}"
    model = Model()

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, outbox_table=outbox, source="tests")

    for index, op in enumerate(ops):
        now = clock.now()
        if op[0] == "grant":
            _, amount, days, priority = op
            reward = Reward(RewardKind.CREDITS, amount, credits_expire_days=days, credits_priority=priority)
            rule = MilestoneRule(
                f"r{index}",
                f"g{index}",
                1,
                "Grant",
                RuleKind.USAGE_THRESHOLD,
                ThresholdParams("x", 1),
                reward,
            )
            unit_of_work = uow()
            async with unit_of_work:
                await grant(unit_of_work, [Achievement("t-prop", account, rule, "lifetime", 1)], now)
                await unit_of_work.commit()
            bucket_id = await _one(ledger_db, BUCKET_OF_RULE, a=account, k=f"g{index}")
            expires = now + timedelta(days=days) if days else None
            model.buckets[bucket_id] = Bucket(bucket_id, money(amount), expires, now, priority, bucket_id)
            model.rewards.append(f"g{index}")
        elif op[0] == "redeem":
            expected = _plan(model, op[1], now)
            command = commands.Redeem("t-prop", account, op[1], "credits", f"k{index}", "h", None, "prop")
            outcome = await handlers.redeem(command, uow=uow(), clock=clock, render=_render)
            assert (outcome.status_code == 201) == (expected is not None)
            model.take(expected or [])
        elif op[0] == "adjust":
            amount = op[1]
            adjustment = commands.Adjust("t-prop", account, amount, "credits", "prop", "property test")
            if amount > 0:
                change = await handlers.adjust(adjustment, uow=uow(), clock=clock)
                bucket_id = await _one(
                    ledger_db,
                    "SELECT id FROM credit_buckets WHERE transaction_id = :t",
                    t=change.transaction_id,
                )
                model.buckets[bucket_id] = Bucket(bucket_id, money(amount), None, now)
            else:
                expected = _plan(model, -amount, now)
                try:
                    await handlers.adjust(adjustment, uow=uow(), clock=clock)
                    assert expected is not None
                except InsufficientCredits:
                    assert expected is None
                model.take(expected or [])
        elif op[0] == "advance":
            clock.advance(timedelta(days=op[1]))
            while await handlers.expire_credits(uow=uow(), clock=clock, policy=policy):
                pass
            for b in list(model.buckets.values()):
                if _expired(b, clock.now()):
                    del model.buckets[b.id]
        elif op[0] == "void" and model.rewards:
            key = model.rewards[op[1] % len(model.rewards)]
            reward_id = await _one(
                ledger_db, "SELECT id FROM rewards WHERE account_id = :a AND rule_key = :k", a=account, k=key
            )
            try:
                await handlers.void_grant(
                    commands.VoidGrant("t-prop", account, reward_id, "prop", "test"), uow=uow(), clock=clock
                )
                bucket_id = await _one(ledger_db, BUCKET_OF_RULE, a=account, k=key)
                model.buckets.pop(bucket_id, None)
            except DomainError:
                pass  # voided before: a second void is refused
        await _check_invariants(ledger_db, account, model)


def _plan(model: Model, amount: Decimal, now: datetime) -> list[Any] | None:
    """What a debit burns in the model, or None when it must be refused."""
    try:
        return plan_burn(list(model.buckets.values()), amount, now)
    except InsufficientCredits:
        return None


def _render(result: Any) -> tuple[int, dict[str, Any]]:
    return (422, {}) if isinstance(result, InsufficientCredits) else (201, {"id": result.id})


async def _check_invariants(engine: Any, account: str, model: Model) -> None:
    async with engine.connect() as connection:
        for name, sql in INVARIANTS.items():
            assert (await connection.execute(text(sql))).scalar() == 0, name
        balance = (
            await connection.execute(
                text("SELECT balance FROM account_balances WHERE account_id = :a"), {"a": account}
            )
        ).scalar()
    assert (balance or ZERO) == sum((b.remaining for b in model.buckets.values()), ZERO)


async def _one(engine: Any, sql: str, **params: Any) -> str:
    async with engine.connect() as connection:
        return str((await connection.execute(text(sql), params)).scalar())


BUCKET_OF_RULE = (
    "SELECT c.id FROM credit_buckets c JOIN rewards r ON r.id = c.reward_id "
    "WHERE r.account_id = :a AND r.rule_key = :k"
)
