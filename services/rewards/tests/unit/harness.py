"""The handler tests' harness: rewards' handlers on the in-memory unit of work, as entrypoints call them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from services.rewards.tests.unit.fakes import FakeUnitOfWork
from tangible_rewards.domain import commands
from tangible_rewards.domain.evaluation import Usage
from tangible_rewards.domain.licenses import LicenseFact
from tangible_rewards.domain.model import MilestoneRule, Reward, RewardKind, RuleKind, RuleParams
from tangible_rewards.service_layer import handlers
from tangible_rewards.service_layer.handlers.evaluation import BatchOutcome
from tangible_rewards.service_layer.policy import Policy
from tangible_runtime.domain import ManualClock
from tangible_schemas import EventData

TENANT = "t1"
ACCOUNT = "a1"
CREDITS = Reward(RewardKind.CREDITS, Decimal(100), credits_expire_days=30)
E = TypeVar("E", bound=EventData)
Job = Callable[..., Awaitable[int]]


def usage(
    at: datetime,
    usage_type: str = "report.generated",
    *,
    quantity: float = 1,
    imported: bool = False,
    **ids: Any,
) -> Usage:
    """One usage event of ACCOUNT; `event_id=` to redeliver one, `user_id=` for adoption,
    `imported=True` for historical import."""
    event_id = ids.get("event_id") or str(uuid.uuid4())
    account_id = ids.get("account_id", ACCOUNT)
    return Usage(event_id, TENANT, account_id, usage_type, at, quantity, ids.get("user_id"), imported)


@dataclass
class Harness:
    clock: ManualClock
    uow: FakeUnitOfWork = field(default_factory=FakeUnitOfWork)
    policy: Policy = field(default_factory=Policy)

    async def rule(self, key: str, kind: RuleKind, params: RuleParams, **options: Any) -> MilestoneRule:
        reward = options.pop("reward", CREDITS)
        definition = commands.RuleDefinition(key.title(), kind, params, reward, **options)
        command = commands.CreateMilestoneRule(TENANT, key, definition, "admin")
        return await handlers.create_rule(command, uow=self.uow, clock=self.clock)

    async def use(self, *usages: Usage) -> BatchOutcome:
        command = commands.EvaluateUsage("rewards.usage", usages)
        return await handlers.evaluate_usage(command, uow=self.uow, clock=self.clock, policy=self.policy)

    async def entitlements(self, *facts: LicenseFact | commands.SeatFact) -> BatchOutcome:
        command = commands.ApplyEntitlementEvents(
            "rewards.entitlements", [(str(uuid.uuid4()), f) for f in facts]
        )
        return await handlers.apply_entitlement_events(
            command, uow=self.uow, clock=self.clock, policy=self.policy
        )

    async def run(self, job: Job) -> int:
        """A scheduled job, as the scheduler runs it."""
        return await job(uow=self.uow, clock=self.clock, policy=self.policy)

    def events(self, kind: type[E]) -> list[E]:
        return [e for e in self.uow.events if isinstance(e, kind)]
