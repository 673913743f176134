"""The handler tests' in-memory unit of work (tests/unit/fakes.py) does what the SQL one does:
one scenario through the handlers on each, the same results, reads and committed events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from services.rewards.tests.unit.fakes import FakeUnitOfWork
from tangible_devstack.contract import as_sent, committed, comparable
from tangible_rewards.adapters.tables import outbox
from tangible_rewards.domain import commands
from tangible_rewards.domain.errors import InsufficientCredits
from tangible_rewards.domain.evaluation import Usage
from tangible_rewards.domain.model import Reward, RewardKind, RuleKind, ThresholdParams
from tangible_rewards.service_layer import book, handlers, views
from tangible_rewards.service_layer.handlers.ledger import Redemption
from tangible_rewards.service_layer.policy import Policy
from tangible_rewards.service_layer.ports import UnitOfWork
from tangible_rewards.service_layer.unit_of_work import UnitOfWork as SqlUnitOfWork
from tangible_runtime.db import create_engine, create_session_factory
from tangible_runtime.domain import ManualClock

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
TENANT, ACCOUNT = "t1", "a1"
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)  # fixed date: a ManualClock's, never the wall clock's
CREDITS = Reward(RewardKind.CREDITS, Decimal(100), credits_expire_days=30)


def _usage(event_id: str, at: datetime, account: str = ACCOUNT) -> Usage:
    return Usage(event_id, TENANT, account, "report.generated", at, 1, "u1")


def _render(result: Redemption | InsufficientCredits) -> tuple[int, dict[str, Any]]:
    if isinstance(result, InsufficientCredits):
        return 422, {"balance": str(result.details["balance"])}
    return 201, {"redemption_id": result.id, "balance_after": str(result.balance_after)}


async def scenario(uow: UnitOfWork) -> list[Any]:
    """A threshold rule crossed by usage (batches with a repeated and a redelivered event), the
    credits it grants; an adjustment, a redemption replayed by its key and one too large; what
    the handlers return and the ports then read."""
    clock, policy = ManualClock(NOW), Policy()
    seen: list[Any] = []
    rule = commands.RuleDefinition(
        "Champion", RuleKind.USAGE_THRESHOLD, ThresholdParams("report.generated", 3), CREDITS
    )
    seen.append(
        await handlers.create_rule(
            commands.CreateMilestoneRule(TENANT, "champion", rule, "admin"), uow=uow, clock=clock
        )
    )

    async def use(*usages: Usage) -> None:
        command = commands.EvaluateUsage("rewards.usage", usages)
        seen.append(await handlers.evaluate_usage(command, uow=uow, clock=clock, policy=policy))

    now = clock.now()
    await use(_usage("e1", now), _usage("e1", now), _usage("e2", now))
    await use(_usage("e2", now), _usage("e9", now, account="stranger"))  # a redelivery, another account
    clock.advance(timedelta(hours=1))
    await use(_usage("e3", clock.now()), _usage("e4", clock.now()))  # crosses 3: the reward
    await use(_usage("e5", clock.now()))  # past it: no second reward for the same period

    clock.advance(timedelta(hours=1))
    seen.append(
        await handlers.adjust(
            commands.Adjust(TENANT, ACCOUNT, Decimal("50"), "credits", "admin", "goodwill"),
            uow=uow,
            clock=clock,
        )
    )
    for key, amount, body in (("order-1", "30", "a"), ("order-1", "30", "a"), ("order-2", "1000", "b")):
        redeem = commands.Redeem(TENANT, ACCOUNT, Decimal(amount), "credits", key, body, None, "admin")
        seen.append(await handlers.redeem(redeem, uow=uow, clock=clock, render=_render))

    seen.append(
        await views.balance(uow, tenant_id=TENANT, account_id=ACCOUNT, unit="credits", now=clock.now())
    )
    seen.append(
        await views.history(uow, tenant_id=TENANT, account_id=ACCOUNT, unit="credits", limit=10, offset=0)
    )
    seen.append(await views.rewards_earned(uow, tenant_id=TENANT, account_id=ACCOUNT, limit=10, offset=0))
    for account in (ACCOUNT, "stranger"):
        progress = views.account_progress(
            uow, tenant_id=TENANT, account_id=account, now=clock.now(), policy=policy
        )
        seen.append(await progress)
    seen.extend(await book_reads(uow, clock))
    async with uow:
        seen.append(sorted(await uow.inbox("rewards.usage").claim(["e1", "e5", "e9", "e10"])))
    return seen


async def book_reads(uow: UnitOfWork, clock: ManualClock) -> list[Any]:
    """The book's credit expiring: beside the reward's (partly redeemed) credit, grants of other
    accounts and units, one past the window; whole, by unit, in pages after a key as an entry
    and as a decoded cursor have it, and a key that is not one of its order's."""
    seen: list[Any] = []
    for account, unit, days in (("a2", "credits", 3), ("a3", "points", 10), ("a2", "points", 40)):
        expires_at = clock.now() + timedelta(days=days)
        adjust = commands.Adjust(TENANT, account, Decimal("5"), unit, "admin", "grant", expires_at=expires_at)
        seen.append(await handlers.adjust(adjust, uow=uow, clock=clock))
    window: dict[str, Any] = {"tenant_id": TENANT, "now": clock.now(), "within": timedelta(days=31)}
    seen.append(await book.book_page(uow, **window, unit=None, after=None, limit=10))
    seen.append(await book.book_page(uow, **window, unit="points", after=None, limit=10))
    first = await book.book_page(uow, **window, unit=None, after=None, limit=2)
    seen.append(await book.book_page(uow, **window, unit=None, after=first[-1].key, limit=2))
    at, account, unit = first[0].key
    seen.append(
        await book.book_page(uow, **window, unit=None, after=(at.isoformat(), account, unit), limit=2)
    )
    try:
        await book.book_page(uow, **window, unit=None, after=("a1", "credits"), limit=2)
    except ValueError:
        seen.append("a foreign key refused")
    return seen


async def test_the_fake_unit_of_work_reads_and_commits_what_the_sql_one_does(
    database_factory: Any, owner_url: Any
) -> None:
    engine = create_engine(owner_url(await database_factory("rewards", MIGRATIONS)), pool_size=2)
    sessions = create_session_factory(engine)
    try:
        on_sql = await scenario(SqlUnitOfWork(sessions, outbox_table=outbox, source="tests"))
        sql = await committed(engine)
    finally:
        await engine.dispose()
    fake = FakeUnitOfWork()

    on_fake = await scenario(fake)

    assert comparable(on_fake) == comparable(on_sql)
    assert comparable(as_sent(fake.events)) == comparable(as_sent(sql.events))
    assert sql.dead_letters == []
