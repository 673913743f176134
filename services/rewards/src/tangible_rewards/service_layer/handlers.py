"""Handlers: each owns its transaction (`async with uow` … `await uow.commit()`)."""

from __future__ import annotations

import uuid

from tangible_rewards.domain import commands
from tangible_rewards.domain.errors import RuleAlreadyExists
from tangible_rewards.domain.evaluation import ProgressKey, progress_increments
from tangible_rewards.domain.model import MilestoneRule
from tangible_rewards.service_layer import translate
from tangible_rewards.service_layer.unit_of_work import UnitOfWork
from tangible_runtime.domain import Clock


async def create_rule(command: commands.CreateMilestoneRule, *, uow: UnitOfWork) -> MilestoneRule:
    async with uow:
        if await uow.rules.latest(command.tenant_id, command.key) is not None:
            raise RuleAlreadyExists(f"milestone rule '{command.key}' already exists")
        rule = MilestoneRule(
            id=str(uuid.uuid4()),
            key=command.key,
            version=1,
            name=command.name,
            kind=command.kind,
            reward=command.reward,
            params=command.params,
        )
        await uow.rules.add(command.tenant_id, rule)
        await uow.commit()
    return rule


async def evaluate_usage(command: commands.EvaluateUsage, *, uow: UnitOfWork, clock: Clock) -> None:
    """Move progress and grant rewards exactly once: inbox, progress, reward claims and
    outbox rows commit together; the rewards table's unique key stops double grants."""
    async with uow:
        fresh = await uow.inbox(command.consumer).claim(u.event_id for u in command.usages)
        usages = [u for u in command.usages if u.event_id in fresh]
        rules = await uow.rules.enabled_for(u.tenant_id for u in usages)
        values = await uow.progress.add(progress_increments(usages, rules))
        rules_by_id = {rule.id: rule for tenant_rules in rules.values() for rule in tenant_rules}
        reached: list[tuple[str, ProgressKey, MilestoneRule]] = [
            (str(uuid.uuid4()), key, rules_by_id[key.rule_id])
            for key, value in values.items()
            if value >= rules_by_id[key.rule_id].target
        ]
        now = clock.now()
        granted = await uow.rewards.claim(reached, now)
        for reward_id, key, rule in reached:
            if reward_id in granted:
                uow.outbox.add(translate.milestone_reached(key, rule))
                uow.outbox.add(translate.reward_granted(reward_id, key, rule, now))
        await uow.commit()
