"""Admin handlers: milestone rules (versioned; enable/disable) and account time zones."""

from __future__ import annotations

import uuid

from tangible_rewards.domain import commands
from tangible_rewards.domain.errors import RuleAlreadyExists, RuleNotFound
from tangible_rewards.domain.model import MilestoneRule, RuleKind
from tangible_rewards.domain.periods import zone
from tangible_rewards.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock


def _rule(
    key: str, version: int, definition: commands.RuleDefinition, actor: str, clock: Clock
) -> MilestoneRule:
    return MilestoneRule(
        id=str(uuid.uuid4()),
        key=key,
        version=version,
        name=definition.name,
        kind=definition.kind,
        params=definition.params,
        reward=definition.reward,
        repeat=definition.repeat,
        repeat_period=definition.repeat_period,
        actor=actor,
        created_at=clock.now(),
    )


async def create_rule(
    command: commands.CreateMilestoneRule, *, uow: UnitOfWork, clock: Clock
) -> MilestoneRule:
    rule = _rule(command.key, 1, command.definition, command.actor, clock)
    async with uow:
        if await uow.rules.current(command.tenant_id, command.key) is not None:
            raise RuleAlreadyExists(f"milestone rule '{command.key}' already exists; PUT a new version")
        await uow.rules.add_version(command.tenant_id, rule)
        if rule.kind is RuleKind.ANNIVERSARY:
            await uow.licenses.rewind_anniversaries(command.tenant_id)
        await uow.commit()
    return rule


async def revise_rule(
    command: commands.ReviseMilestoneRule, *, uow: UnitOfWork, clock: Clock
) -> tuple[MilestoneRule, bool]:
    """A new version when the definition changed; (rule, created). Progress carries over
    unless what is counted changed (see MilestoneRule.next_version)."""
    async with uow:
        current = await uow.rules.current(command.tenant_id, command.key, lock=True)
        if current is None:
            raise RuleNotFound(f"no milestone rule '{command.key}'")
        proposed = _rule(command.key, current.version + 1, command.definition, command.actor, clock)
        if proposed.definition() == current.definition():
            return current, False
        rule = current.next_version(proposed)
        await uow.rules.add_version(command.tenant_id, rule)
        if rule.kind is RuleKind.ANNIVERSARY:
            await uow.licenses.rewind_anniversaries(command.tenant_id)
        await uow.commit()
    return rule, True


async def set_rule_enabled(command: commands.SetRuleEnabled, *, uow: UnitOfWork) -> MilestoneRule:
    async with uow:
        if not await uow.rules.set_enabled(command.tenant_id, command.key, command.enabled):
            raise RuleNotFound(f"no milestone rule '{command.key}'")
        rule = await uow.rules.current(command.tenant_id, command.key)
        assert rule is not None
        if command.enabled and rule.kind is RuleKind.ANNIVERSARY:
            await uow.licenses.rewind_anniversaries(command.tenant_id)
        await uow.commit()
    return rule


async def set_time_zone(command: commands.SetTimeZone, *, uow: UnitOfWork) -> None:
    zone(command.time_zone)  # refuses unknown zones (422)
    async with uow:
        await uow.profiles.set_time_zone(command.tenant_id, command.account_id, command.time_zone)
        await uow.commit()
