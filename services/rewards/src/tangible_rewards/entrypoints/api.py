"""rewards' HTTP API: milestone rules (admin), progress (read)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from tangible_rewards.domain import commands
from tangible_rewards.domain.model import MilestoneRule, Progress, Reward, RewardKind, RuleKind
from tangible_rewards.entrypoints.dependencies import ContainerDep
from tangible_rewards.entrypoints.schemas import (
    MilestoneRuleCreate,
    MilestoneRuleRead,
    ProgressList,
    ProgressRead,
    RewardIn,
)
from tangible_rewards.service_layer import handlers, views
from tangible_runtime.app import AdminPrincipal, ReadPrincipal

router = APIRouter(prefix="/v1")


def _reward_in(reward: Reward) -> RewardIn:
    return RewardIn.model_validate({**asdict(reward), "kind": reward.kind.value})


def _rule_read(rule: MilestoneRule) -> MilestoneRuleRead:
    return MilestoneRuleRead(
        id=rule.id,
        key=rule.key,
        version=rule.version,
        name=rule.name,
        kind=rule.kind.value,
        enabled=rule.enabled,
        params=rule.params,
        reward=_reward_in(rule.reward),
    )


@router.post("/milestones", status_code=201, response_model=MilestoneRuleRead, tags=["milestones"])
async def create_milestone(
    body: MilestoneRuleCreate, principal: AdminPrincipal, container: ContainerDep
) -> MilestoneRuleRead:
    reward = Reward(**{**body.reward.model_dump(), "kind": RewardKind(body.reward.kind)})
    command = commands.CreateMilestoneRule(
        tenant_id=principal.tenant_id,
        key=body.key,
        name=body.name,
        kind=RuleKind(body.kind),
        params=body.params.model_dump(),
        reward=reward,
    )
    return _rule_read(await handlers.create_rule(command, uow=container.new_uow()))


def _progress_read(progress: Progress) -> ProgressRead:
    rule = progress.rule
    return ProgressRead(
        rule_key=rule.key,
        name=rule.name,
        current=progress.current,
        target=rule.target,
        percent=round(progress.percent, 1),
        remaining=progress.remaining,
        reached=progress.reached,
        reward=_reward_in(rule.reward),
        summary=f"{progress.percent:.0f} % to {rule.name}"
        + ("" if progress.reached else f": {progress.remaining:,.0f} more {rule.usage_type}"),
    )


@router.get(
    "/accounts/{account_id}/progress",
    response_model=ProgressList,
    tags=["progress"],
    summary="Progress toward each enabled milestone",
)
async def get_progress(account_id: str, principal: ReadPrincipal, container: ContainerDep) -> ProgressList:
    principal.require_account(account_id)
    progress = await views.account_progress(
        container.new_uow(), tenant_id=principal.tenant_id, account_id=account_id
    )
    return ProgressList(account_id=account_id, milestones=[_progress_read(p) for p in progress])
