"""Milestone rules admin API: create, revise (new version), enable/disable, list, get, versions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Body, Query

from tangible_rewards.domain import commands
from tangible_rewards.domain.errors import RuleNotFound
from tangible_rewards.domain.model import (
    MilestoneRule,
    Repeat,
    Reward,
    RewardKind,
    RuleKind,
    params_from_dict,
    params_to_dict,
)
from tangible_rewards.domain.periods import Period
from tangible_rewards.entrypoints.dependencies import ContainerDep
from tangible_rewards.entrypoints.schemas.pages import MilestoneRuleList
from tangible_rewards.entrypoints.schemas.rules import (
    REWARD,
    MilestoneRuleCreate,
    MilestoneRuleRead,
    MilestoneRuleUpdate,
    RewardIn,
)
from tangible_rewards.service_layer import handlers, views
from tangible_runtime.app import AdminPrincipal
from tangible_runtime.numbers import VersionPath
from tangible_runtime.paging import Paging, PagingDep

router = APIRouter(prefix="/v1/milestones", tags=["milestones"])


def reward_in(reward: Reward) -> RewardIn:
    return REWARD.validate_python({**asdict(reward), "kind": reward.kind.value})


def rule_read(rule: MilestoneRule) -> MilestoneRuleRead:
    return MilestoneRuleRead(
        id=rule.id,
        key=rule.key,
        version=rule.version,
        name=rule.name,
        kind=rule.kind.value,
        enabled=rule.enabled,
        params=params_to_dict(rule.params),
        reward=reward_in(rule.reward),
        repeat=rule.repeat.value,
        repeat_period=rule.repeat_period.value if rule.repeat_period else None,
        progress_series=rule.series,
        actor=rule.actor,
        created_at=rule.created_at,
    )


def _rule_page(rules: list[MilestoneRule], total: int, paging: Paging) -> MilestoneRuleList:
    items = [rule_read(r) for r in rules]
    return MilestoneRuleList(items=items, total=total, limit=paging.limit, offset=paging.offset)


def _definition(body: MilestoneRuleUpdate | MilestoneRuleCreate) -> commands.RuleDefinition:
    kind = RuleKind(body.kind)
    params = body.params.model_dump()
    return commands.RuleDefinition(
        name=body.name,
        kind=kind,
        params=params_from_dict(kind, params),
        reward=Reward(**{**body.reward.model_dump(), "kind": RewardKind(body.reward.kind)}),
        repeat=Repeat(body.repeat),
        repeat_period=Period(body.repeat_period) if body.repeat_period else None,
    )


@router.post(
    "", status_code=201, response_model=MilestoneRuleRead, summary="Create a milestone rule (version 1)"
)
async def create_milestone(
    body: Annotated[MilestoneRuleCreate, Body()], principal: AdminPrincipal, container: ContainerDep
) -> MilestoneRuleRead:
    command = commands.CreateMilestoneRule(
        principal.tenant_id, body.key, _definition(body), principal.credential_id
    )
    return rule_read(await handlers.create_rule(command, uow=container.new_uow(), clock=container.clock))


@router.get("", response_model=MilestoneRuleList, summary="Rules (current versions), by key")
async def list_milestones(
    principal: AdminPrincipal,
    container: ContainerDep,
    paging: PagingDep,
    enabled: Annotated[
        bool | None, Query(description="Only enabled (true) or disabled (false) rules.")
    ] = None,
) -> MilestoneRuleList:
    rules, total = await views.rules_page(
        container.new_uow(),
        tenant_id=principal.tenant_id,
        enabled=enabled,
        limit=paging.limit,
        offset=paging.offset,
    )
    return _rule_page(rules, total, paging)


@router.get("/{key}", response_model=MilestoneRuleRead, summary="The current version of a rule")
async def get_milestone(key: str, principal: AdminPrincipal, container: ContainerDep) -> MilestoneRuleRead:
    rule = await views.rule(container.new_uow(), tenant_id=principal.tenant_id, key=key)
    if rule is None:
        raise RuleNotFound(f"no milestone rule '{key}'")
    return rule_read(rule)


@router.put(
    "/{key}",
    response_model=MilestoneRuleRead,
    summary="Revise a rule: a new version when anything changed",
    description=(
        "Progress carries over to the new version unless what is counted changed (kind, usage type, "
        "window, or a weekly streak's days per week). A reward already granted for a period is never "
        "granted again for that period by a later version."
    ),
)
async def revise_milestone(
    key: str, body: Annotated[MilestoneRuleUpdate, Body()], principal: AdminPrincipal, container: ContainerDep
) -> MilestoneRuleRead:
    command = commands.ReviseMilestoneRule(
        principal.tenant_id, key, _definition(body), principal.credential_id
    )
    rule, _ = await handlers.revise_rule(command, uow=container.new_uow(), clock=container.clock)
    return rule_read(rule)


@router.post("/{key}/enable", response_model=MilestoneRuleRead, summary="Enable a rule (not a new version)")
async def enable_milestone(key: str, principal: AdminPrincipal, container: ContainerDep) -> MilestoneRuleRead:
    command = commands.SetRuleEnabled(principal.tenant_id, key, True)
    return rule_read(await handlers.set_rule_enabled(command, uow=container.new_uow()))


@router.post("/{key}/disable", response_model=MilestoneRuleRead, summary="Disable a rule: it stops counting")
async def disable_milestone(
    key: str, principal: AdminPrincipal, container: ContainerDep
) -> MilestoneRuleRead:
    command = commands.SetRuleEnabled(principal.tenant_id, key, False)
    return rule_read(await handlers.set_rule_enabled(command, uow=container.new_uow()))


@router.get(
    "/{key}/versions", response_model=MilestoneRuleList, summary="Every version of a rule, newest first"
)
async def list_versions(
    key: str, principal: AdminPrincipal, container: ContainerDep, paging: PagingDep
) -> MilestoneRuleList:
    rules, total = await views.rule_versions(
        container.new_uow(), tenant_id=principal.tenant_id, key=key, limit=paging.limit, offset=paging.offset
    )
    if total == 0:
        raise RuleNotFound(f"no milestone rule '{key}'")
    return _rule_page(rules, total, paging)


@router.get("/{key}/versions/{version}", response_model=MilestoneRuleRead, summary="One version of a rule")
async def get_version(
    key: str, version: VersionPath, principal: AdminPrincipal, container: ContainerDep
) -> MilestoneRuleRead:
    rule = await views.rule(container.new_uow(), tenant_id=principal.tenant_id, key=key, version=version)
    if rule is None:
        raise RuleNotFound(f"no version {version} of milestone rule '{key}'")
    return rule_read(rule)
