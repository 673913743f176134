"""Customer-facing reads (read scope or an account-scoped token) and account settings (admin).

Balance and progress, the reads portals poll most, are rendered to bytes once and kept in
the replica's in-memory view (service_layer/live_view.py) until the account changes; the
fast lane (entrypoints/fast_lane.py) serves them from there without the framework. The
bytes are what FastAPI itself would send for the response model (the same TypeAdapter
`dump_json`), so either way the answer is the same to the byte.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import TypeAdapter

from tangible_rewards.domain import commands
from tangible_rewards.domain.progress import Progress
from tangible_rewards.entrypoints.api.rules import reward_in
from tangible_rewards.entrypoints.dependencies import Container, ContainerDep, UnitQuery
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
_BALANCE = TypeAdapter(BalanceRead)
_PROGRESS = TypeAdapter(ProgressList)


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


async def progress_body(container: Container, tenant_id: str, account_id: str) -> bytes:
    now = container.clock.now()
    view = container.view
    if view is not None and (kept := view.progress(tenant_id, account_id, now)) is not None:
        return kept
    ticket = view.ticket(tenant_id, account_id) if view is not None else 0
    progress, until = await views.account_progress_until(
        container.new_uow(), tenant_id=tenant_id, account_id=account_id, now=now, policy=container.policy
    )
    body = _PROGRESS.dump_json(
        ProgressList(account_id=account_id, milestones=[_progress_read(p) for p in progress]), by_alias=True
    )
    if view is not None:
        view.keep_progress(ticket, tenant_id, account_id, body, now=now, until=until)
    return body


async def balance_body(container: Container, tenant_id: str, account_id: str, unit: str) -> bytes:
    now = container.clock.now()
    view = container.view
    if view is not None and (kept := view.balance(tenant_id, account_id, unit, now)) is not None:
        return kept
    ticket = view.ticket(tenant_id, account_id) if view is not None else 0
    total, buckets = await views.balance(
        container.new_uow(), tenant_id=tenant_id, account_id=account_id, unit=unit, now=now
    )
    read = BalanceRead(
        account_id=account_id,
        unit=unit,
        total=total,
        buckets=[BucketRead.model_validate(b, from_attributes=True) for b in buckets],
    )
    body = _BALANCE.dump_json(read, by_alias=True)
    if view is not None:
        # the total drops when the soonest bucket expires: the kept answer ends there
        expiries = [b.expires_at for b in buckets if b.expires_at is not None]
        view.keep_balance(ticket, tenant_id, account_id, unit, body, valid_until=min(expiries, default=None))
    return body


@router.get("/progress", response_model=ProgressList, summary="Progress toward each enabled milestone")
async def get_progress(account_id: str, principal: ReadPrincipal, container: ContainerDep) -> Response:
    principal.require_account(account_id)
    body = await progress_body(container, principal.tenant_id, account_id)
    return Response(body, media_type="application/json")


@router.get("/balance", response_model=BalanceRead, summary="Spendable credits, by expiry")
async def get_balance(
    account_id: str, principal: ReadPrincipal, container: ContainerDep, unit: UnitQuery = "credits"
) -> Response:
    principal.require_account(account_id)
    body = await balance_body(container, principal.tenant_id, account_id, unit)
    return Response(body, media_type="application/json")


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
