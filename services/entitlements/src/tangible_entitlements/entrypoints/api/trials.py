"""Trial routes: start, cancel, convert (admin); an account's trials (read)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from tangible_entitlements.domain import commands
from tangible_entitlements.entrypoints.api.common import PagingDep, actor, refresh_view
from tangible_entitlements.entrypoints.api.licenses import license_read
from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_entitlements.entrypoints.schemas.common import Reason
from tangible_entitlements.entrypoints.schemas.licenses import LicenseRead
from tangible_entitlements.entrypoints.schemas.lifecycle import TrialCreate, TrialRead
from tangible_entitlements.service_layer import handlers
from tangible_runtime.app import AdminPrincipal, ReadPrincipal
from tangible_runtime.paging import Page

router = APIRouter(tags=["trials"])


@router.post(
    "/licenses/{license_id}/trials",
    status_code=201,
    response_model=TrialRead,
    summary="Start a trial of a higher plan or an add-on, in force at once for N days",
)
async def start_trial(
    license_id: str, body: TrialCreate, principal: AdminPrincipal, container: ContainerDep
) -> TrialRead:
    command = commands.StartTrial(
        principal.tenant_id,
        license_id,
        actor(principal),
        body.reason,
        target_kind=body.target_kind,
        target_key=body.target_key,
        target_version=body.target_version,
        days=body.days,
    )
    trial = await handlers.start_trial(command, uow=container.new_uow(), clock=container.clock)
    await refresh_view(container, principal.tenant_id, trial.account_id)
    return TrialRead.model_validate(trial)


def _end_route(verb: Literal["cancel", "convert"], outcome: str, summary: str) -> None:
    @router.post(
        f"/licenses/{{license_id}}/trials/{{trial_id}}/{verb}",
        response_model=LicenseRead,
        summary=summary,
        name=f"{verb}_trial",
    )
    async def end(
        license_id: str, trial_id: str, body: Reason, principal: AdminPrincipal, container: ContainerDep
    ) -> LicenseRead:
        command = commands.EndTrial(
            principal.tenant_id, license_id, actor(principal), body.reason, trial_id=trial_id, outcome=outcome
        )
        license = await handlers.end_trial(command, uow=container.new_uow(), clock=container.clock)
        await refresh_view(container, principal.tenant_id, license.account_id)
        return license_read(license)


_end_route("cancel", "cancelled", "Cancel a trial: the license is exactly as before it")
_end_route("convert", "converted", "Convert a trial: the license keeps the trialled plan or add-on")


@router.get("/accounts/{account_id}/trials", response_model=Page[TrialRead], summary="An account's trials")
async def list_trials(
    account_id: str,
    principal: ReadPrincipal,
    container: ContainerDep,
    paging: PagingDep,
    status: Literal["active", "expired", "cancelled", "converted"] | None = Query(default=None),
) -> Page[TrialRead]:
    principal.require_account(account_id)
    async with container.new_uow() as uow:
        trials, total = await uow.trials.page_for_account(
            principal.tenant_id, account_id, status=status, limit=paging.limit, offset=paging.offset
        )
    return Page.of([TrialRead.model_validate(t) for t in trials], total, paging)
