"""License routes: lifecycle and seats (admin), reads (read scope or the account's token)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response

from tangible_entitlements.domain import commands
from tangible_entitlements.domain.errors import LicenseNotFound
from tangible_entitlements.domain.model import License
from tangible_entitlements.entrypoints.api.common import PagingDep, actor
from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_entitlements.entrypoints.schemas.common import Reason
from tangible_entitlements.entrypoints.schemas.licenses import (
    AddonAdd,
    HistoryRead,
    LicenseCreate,
    LicenseRead,
    LicenseRenew,
    LicensesImport,
    LicensesImported,
    PlanChange,
    SeatAssign,
    SeatsRead,
)
from tangible_entitlements.service_layer import handlers
from tangible_runtime.app import AdminPrincipal, ReadPrincipal
from tangible_runtime.auth import Principal
from tangible_runtime.paging import Page

router = APIRouter(tags=["licenses"])


def license_read(license: License) -> LicenseRead:
    return LicenseRead.model_validate(license, from_attributes=True)


@router.post("/licenses", status_code=201, response_model=LicenseRead)
async def create_license(
    body: LicenseCreate, principal: AdminPrincipal, container: ContainerDep
) -> LicenseRead:
    command = _create_command(body, principal)
    return license_read(
        await handlers.create_license(command, uow=container.new_uow(), clock=container.clock)
    )


def _create_command(body: LicenseCreate, principal: Principal) -> commands.CreateLicense:
    return commands.CreateLicense(
        tenant_id=principal.tenant_id,
        account_id=body.account_id,
        plan_key=body.plan_key,
        plan_version=body.plan_version,
        term_start=body.term_start,
        term_end=body.term_end,
        seats=body.seats,
        addons=body.addons,
        timezone=body.timezone,
        actor=actor(principal),
        reason=body.reason,
    )


@router.post(
    "/imports/licenses",
    status_code=201,
    response_model=LicensesImported,
    summary="Create up to 1,000 licenses in one transaction",
    description=(
        "For bringing a vendor's existing customers over at once. All or none: if any license "
        "names a plan or add-on that is not published, nothing is created. Each license is "
        "recorded and announced as if created alone; the answer lists them in the order sent."
    ),
)
async def import_licenses(
    body: LicensesImport, principal: AdminPrincipal, container: ContainerDep
) -> LicensesImported:
    batch = [_create_command(item, principal) for item in body.licenses]
    created = await handlers.import_licenses(batch, uow=container.new_uow(), clock=container.clock)
    return LicensesImported(licenses=[license_read(x) for x in created])


async def _readable(license_id: str, principal: Principal, container: ContainerDep) -> License:
    async with container.new_uow() as uow:
        license = await uow.licenses.get(principal.tenant_id, license_id)
    if license is None:
        raise LicenseNotFound(f"license '{license_id}' does not exist")
    principal.require_account(license.account_id)
    return license


@router.get("/licenses/{license_id}", response_model=LicenseRead)
async def get_license(license_id: str, principal: ReadPrincipal, container: ContainerDep) -> LicenseRead:
    return license_read(await _readable(license_id, principal, container))


@router.get(
    "/accounts/{account_id}/licenses", response_model=Page[LicenseRead], summary="An account's licenses"
)
async def list_licenses(
    account_id: str, principal: ReadPrincipal, container: ContainerDep, paging: PagingDep
) -> Page[LicenseRead]:
    principal.require_account(account_id)
    async with container.new_uow() as uow:
        licenses, total = await uow.licenses.page_for_account(
            principal.tenant_id, account_id, limit=paging.limit, offset=paging.offset
        )
    return Page.of([license_read(x) for x in licenses], total, paging)


@router.get(
    "/licenses/{license_id}/history",
    response_model=Page[HistoryRead],
    summary="Every change: actor, reason, before and after",
)
async def license_history(
    license_id: str, principal: ReadPrincipal, container: ContainerDep, paging: PagingDep
) -> Page[HistoryRead]:
    await _readable(license_id, principal, container)
    async with container.new_uow() as uow:
        records, total = await uow.history.for_license(
            principal.tenant_id, license_id, limit=paging.limit, offset=paging.offset
        )
    return Page.of([HistoryRead.model_validate(r) for r in records], total, paging)


@router.post("/licenses/{license_id}/renew", response_model=LicenseRead, summary="Extend the term")
async def renew(
    license_id: str, body: LicenseRenew, principal: AdminPrincipal, container: ContainerDep
) -> LicenseRead:
    command = commands.RenewLicense(
        principal.tenant_id, license_id, actor(principal), body.reason, body.term_end
    )
    return license_read(await handlers.renew_license(command, uow=container.new_uow(), clock=container.clock))


@router.post(
    "/licenses/{license_id}/plan",
    response_model=LicenseRead,
    summary="Change plan (or migrate to a newer version), now or at renewal",
)
async def change_plan(
    license_id: str, body: PlanChange, principal: AdminPrincipal, container: ContainerDep
) -> LicenseRead:
    command = commands.ChangePlan(
        principal.tenant_id,
        license_id,
        actor(principal),
        body.reason,
        body.plan_key,
        body.plan_version,
        body.effective,
    )
    return license_read(await handlers.change_plan(command, uow=container.new_uow(), clock=container.clock))


@router.post("/licenses/{license_id}/addons", response_model=LicenseRead, summary="Add an add-on")
async def add_addon(
    license_id: str, body: AddonAdd, principal: AdminPrincipal, container: ContainerDep
) -> LicenseRead:
    command = commands.AddAddon(
        principal.tenant_id, license_id, actor(principal), body.reason, body.addon_key, body.addon_version
    )
    return license_read(await handlers.add_addon(command, uow=container.new_uow(), clock=container.clock))


@router.delete(
    "/licenses/{license_id}/addons/{addon_key}", response_model=LicenseRead, summary="Remove an add-on"
)
async def remove_addon(
    license_id: str,
    addon_key: str,
    principal: AdminPrincipal,
    container: ContainerDep,
    reason: str | None = None,
) -> LicenseRead:
    command = commands.RemoveAddon(principal.tenant_id, license_id, actor(principal), reason, addon_key)
    return license_read(await handlers.remove_addon(command, uow=container.new_uow(), clock=container.clock))


def _status_route(verb: str, transition: str, summary: str) -> None:
    @router.post(f"/licenses/{{license_id}}/{verb}", response_model=LicenseRead, summary=summary, name=verb)
    async def change(
        license_id: str, body: Reason, principal: AdminPrincipal, container: ContainerDep
    ) -> LicenseRead:
        command = commands.ChangeStatus(
            principal.tenant_id, license_id, actor(principal), body.reason, transition
        )
        window = timedelta(days=container.settings.restore_window_days)
        return license_read(
            await handlers.change_status(
                command, uow=container.new_uow(), clock=container.clock, restore_window=window
            )
        )


_status_route("suspend", "suspended", "Suspend: no access, reversible within the restore window")
_status_route("reinstate", "reinstated", "Undo a suspension: exactly the prior state")
_status_route("revoke", "revoked", "Revoke: no access, seats taken back; reversible within the window")
_status_route("restore", "restored", "Undo a revocation: exactly the prior state, seats included")


@router.get("/licenses/{license_id}/seats", response_model=SeatsRead, tags=["seats"])
async def list_seats(license_id: str, principal: ReadPrincipal, container: ContainerDep) -> SeatsRead:
    license = await _readable(license_id, principal, container)
    async with container.new_uow() as uow:
        users = await uow.seats.users(principal.tenant_id, license_id)
    return SeatsRead(license_id=license_id, purchased=license.seats, assigned=len(users), users=users)


@router.post(
    "/licenses/{license_id}/seats",
    status_code=201,
    response_model=SeatsRead,
    tags=["seats"],
    summary="Assign a seat (409 when all are assigned; 200 when the user already has one)",
)
async def assign_seat(
    license_id: str, body: SeatAssign, principal: AdminPrincipal, container: ContainerDep, response: Response
) -> SeatsRead:
    command = commands.AssignSeat(
        principal.tenant_id, license_id, actor(principal), body.reason, body.user_id
    )
    created, _ = await handlers.assign_seat(command, uow=container.new_uow(), clock=container.clock)
    if not created:
        response.status_code = 200
    return await list_seats(license_id, principal, container)


@router.delete(
    "/licenses/{license_id}/seats/{user_id}", status_code=204, tags=["seats"], summary="Unassign a seat"
)
async def unassign_seat(
    license_id: str,
    user_id: str,
    principal: AdminPrincipal,
    container: ContainerDep,
    reason: str | None = None,
) -> Response:
    command = commands.UnassignSeat(principal.tenant_id, license_id, actor(principal), reason, user_id)
    await handlers.unassign_seat(command, uow=container.new_uow(), clock=container.clock)
    return Response(status_code=204)
