"""Customer-facing reads (read scope or an account-scoped token) and account settings (admin)."""

from __future__ import annotations

from fastapi import APIRouter

from tangible_rewards.domain import commands
from tangible_rewards.domain.progress import Progress
from tangible_rewards.entrypoints.api.rules import reward_in
from tangible_rewards.entrypoints.dependencies import ContainerDep, UnitQuery
from tangible_rewards.entrypoints.schemas.accounts import (
    AccountSettings,
    BalanceRead,
    BucketRead,
    LedgerEntryRead,
    ProgressList,
    ProgressRead,
    RewardRead,
)
from tangible_rewards.entrypoints.schemas.pages import LedgerPage, RewardList
from tangible_rewards.service_layer import handlers, views
from tangible_runtime.app import AdminPrincipal, ReadPrincipal
from tangible_runtime.paging import PagingDep

router = APIRouter(prefix="/v1/accounts/{account_id}", tags=["accounts"])


def _progress_read(progress: Progress) -> ProgressRead:
    rule = progress.rule
    return ProgressRead(
        rule_key=rule.key,
        name=rule.name,
        kind=rule.kind.value,
        version=rule.version,
        current=progress.current,
        target=progress.target,
        percent=round(progress.percent, 1),
        remaining=progress.remaining,
        reached=progress.reached,
        status=progress.status.value,
        unit=progress.label,
        period_key=progress.period_key,
        reward=reward_in(rule.reward),
        summary=progress.summary,
    )


@router.get("/progress", response_model=ProgressList, summary="Progress toward each enabled milestone")
async def get_progress(account_id: str, principal: ReadPrincipal, container: ContainerDep) -> ProgressList:
    principal.require_account(account_id)
    progress = await views.account_progress(
        container.new_uow(),
        tenant_id=principal.tenant_id,
        account_id=account_id,
        now=container.clock.now(),
        policy=container.policy,
    )
    return ProgressList(account_id=account_id, milestones=[_progress_read(p) for p in progress])


@router.get("/balance", response_model=BalanceRead, summary="Spendable credits, by expiry")
async def get_balance(
    account_id: str, principal: ReadPrincipal, container: ContainerDep, unit: UnitQuery = "credits"
) -> BalanceRead:
    principal.require_account(account_id)
    total, buckets = await views.balance(
        container.new_uow(),
        tenant_id=principal.tenant_id,
        account_id=account_id,
        unit=unit,
        now=container.clock.now(),
    )
    return BalanceRead(
        account_id=account_id,
        unit=unit,
        total=total,
        buckets=[BucketRead.model_validate(b, from_attributes=True) for b in buckets],
    )


@router.get("/ledger", response_model=LedgerPage, summary="Credit history with provenance, newest first")
async def get_ledger(
    account_id: str,
    principal: ReadPrincipal,
    container: ContainerDep,
    paging: PagingDep,
    unit: UnitQuery = "credits",
) -> LedgerPage:
    principal.require_account(account_id)
    entries, total = await views.history(
        container.new_uow(),
        tenant_id=principal.tenant_id,
        account_id=account_id,
        unit=unit,
        limit=paging.limit,
        offset=paging.offset,
    )
    return LedgerPage(
        account_id=account_id,
        unit=unit,
        items=[LedgerEntryRead.model_validate(e, from_attributes=True) for e in entries],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.get("/rewards", response_model=RewardList, summary="Rewards earned, newest first")
async def get_rewards(
    account_id: str, principal: ReadPrincipal, container: ContainerDep, paging: PagingDep
) -> RewardList:
    principal.require_account(account_id)
    rewards, total = await views.rewards_earned(
        container.new_uow(),
        tenant_id=principal.tenant_id,
        account_id=account_id,
        limit=paging.limit,
        offset=paging.offset,
    )
    return RewardList(
        account_id=account_id,
        items=[
            RewardRead(
                reward_id=r.id,
                rule_key=r.rule_key,
                rule_version=r.rule_version,
                name=r.name,
                kind=r.kind,
                credits=r.credits,
                credits_unit=r.reward.get("credits_unit") if r.credits is not None else None,
                period_key=r.reward_period,
                status=r.status,
                granted_at=r.granted_at,
                details=r.reward,
            )
            for r in rewards
        ],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.put("/settings", response_model=AccountSettings, summary="Set the account's time zone (admin)")
async def put_settings(
    account_id: str, body: AccountSettings, principal: AdminPrincipal, container: ContainerDep
) -> AccountSettings:
    command = commands.SetTimeZone(principal.tenant_id, account_id, body.time_zone)
    await handlers.set_time_zone(command, uow=container.new_uow())
    return body
