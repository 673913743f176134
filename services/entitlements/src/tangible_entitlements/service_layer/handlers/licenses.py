"""License handlers: create, renew, change plan, add-ons, suspend/reinstate, revoke/restore.

Each change locks the license row, records history (actor, reason, before, after) and emits
its event in one transaction; changes that can raise a limit re-check crossed thresholds.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Literal

from tangible_entitlements.domain import audit, commands, licensing
from tangible_entitlements.domain.errors import CatalogItemNotFound, LicenseNotFound
from tangible_entitlements.domain.model import CatalogItem, CatalogStatus, License, LicenseStatus
from tangible_entitlements.service_layer import translate
from tangible_entitlements.service_layer.handlers.metering import apply_parked, recover_after_limit_change
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock
from tangible_schemas import EventData


async def published(uow: UnitOfWork, tenant_id: str, key: str, kind: str, version: int | None) -> CatalogItem:
    item = await uow.catalog.item(tenant_id, key, version)
    if item is None or item.kind != kind or item.status is not CatalogStatus.PUBLISHED:
        what = f"version {version} of " if version is not None else ""
        raise CatalogItemNotFound(f"no published {what}{kind} '{key}'", key=key)
    return item


async def create_license(command: commands.CreateLicense, *, uow: UnitOfWork, clock: Clock) -> License:
    [license] = await import_licenses([command], uow=uow, clock=clock)
    return license


async def import_licenses(
    batch: Sequence[commands.CreateLicense], *, uow: UnitOfWork, clock: Clock
) -> list[License]:
    """Licenses created in one transaction, all or none: one license, or a vendor's customers
    brought over at once. Each is stored, recorded and announced as if created alone."""
    async with uow:
        found: dict[tuple[str, str, str, int | None], CatalogItem] = {}  # a batch shares its plans

        async def item(tenant_id: str, key: str, kind: str, version: int | None) -> CatalogItem:
            wanted = (tenant_id, key, kind, version)
            if wanted not in found:
                found[wanted] = await published(uow, tenant_id, key, kind, version)
            return found[wanted]

        licenses = []
        for command in batch:
            plan = await item(command.tenant_id, command.plan_key, "plan", command.plan_version)
            addons: dict[str, int] = {}
            for addon_key in command.addons:
                addon = await item(command.tenant_id, addon_key, "addon", None)
                addons[addon.key] = addon.version
            licenses.append(
                License(
                    id=str(uuid.uuid4()),
                    tenant_id=command.tenant_id,
                    account_id=command.account_id,
                    plan_key=plan.key,
                    plan_version=plan.version,
                    status=LicenseStatus.ACTIVE,
                    term_start=command.term_start,
                    term_end=command.term_end,
                    seats=command.seats,
                    addons=addons,
                    timezone=command.timezone,
                )
            )
        # usage that came before a license was parked: applied now, after its creation event
        # in the outbox, as if the license had existed when it came; the accounts are locked
        # in one (sorted) statement, so that two imports cannot deadlock on them
        await uow.parked.lock_accounts(sorted({(x.tenant_id, x.account_id) for x in licenses}))
        await uow.licenses.add(licenses)
        now = clock.now()
        await uow.history.append(
            [
                audit.license_entry(
                    license,
                    action="created",
                    actor=command.actor,
                    reason=command.reason,
                    before=None,
                    after=licensing.snapshot(license),
                    at=now,
                )
                for license, command in zip(licenses, batch, strict=True)
            ],
        )
        for license, command in zip(licenses, batch, strict=True):
            uow.outbox.add(translate.license_created(license, command.actor, command.reason))
        await apply_parked(uow, licenses, now)
        await uow.commit()
    return licenses


# a change returns the license after it, its event, and the seat holders after it (None: unchanged)
Change = Callable[[License, list[str]], Awaitable[tuple[License, EventData, list[str] | None]]]


async def _change(
    command: commands.LicenseChange, action: str, change: Change, *, uow: UnitOfWork, clock: Clock
) -> License:
    """Load and lock, apply `change`, put seats right, record history and the event."""
    async with uow:
        license = await uow.licenses.get(command.tenant_id, command.license_id, for_update=True)
        if license is None:
            raise LicenseNotFound(f"license '{command.license_id}' does not exist")
        users = await uow.seats.users(license.tenant_id, license.id)
        after, event, users_after = await change(license, users)
        await save_change(
            uow, license, after, users, users_after, action, command.actor, command.reason, event, clock.now()
        )
        await uow.commit()
    return after


async def save_change(
    uow: UnitOfWork,
    license: License,
    after: License,
    users: list[str],
    users_after: list[str] | None,
    action: str,
    actor: str,
    reason: str | None,
    event: EventData,
    now: datetime,
) -> None:
    """Write a change of a locked license: row, seats, history (before/after), event, and
    the recoveries a raised limit allows."""
    await uow.licenses.save(after)
    if users_after is not None and sorted(users_after) != users:
        await uow.seats.unassign(license.tenant_id, license.id, users)
        await uow.seats.reassign(after, users_after, now)
    await uow.history.append(
        [
            audit.license_entry(
                after,
                action=action,
                actor=actor,
                reason=reason,
                before=licensing.snapshot(license, users=users),
                after=licensing.snapshot(after, users=users if users_after is None else users_after),
                at=now,
            )
        ],
    )
    uow.outbox.add(event)
    if after.status.grants_access:
        await recover_after_limit_change(uow, after, now)


async def renew_license(command: commands.RenewLicense, *, uow: UnitOfWork, clock: Clock) -> License:
    async def change(license: License, _: list[str]) -> tuple[License, EventData, None]:
        if license.pending_plan_key is not None:
            plan = await published(
                uow, license.tenant_id, license.pending_plan_key, "plan", license.pending_plan_version
            )
        else:  # renewal moves to the latest published version of the same plan, if any
            plan = await uow.catalog.item(license.tenant_id, license.plan_key) or (
                await _required(uow, license.tenant_id, license.plan_key, license.plan_version)
            )
        addons = {}
        for key, version in license.addons.items():
            latest = await uow.catalog.item(license.tenant_id, key)
            addons[key] = latest.version if latest is not None else version
        after = licensing.renew(license, plan=plan, addons=addons, term_end=command.term_end)
        return after, translate.license_renewed(after, license.term_end, command.actor, command.reason), None

    return await _change(command, "renewed", change, uow=uow, clock=clock)


async def _required(uow: UnitOfWork, tenant_id: str, key: str, version: int) -> CatalogItem:
    item = await uow.catalog.item(tenant_id, key, version)
    if item is None:
        raise CatalogItemNotFound(f"'{key}' version {version} does not exist")
    return item


async def change_plan(command: commands.ChangePlan, *, uow: UnitOfWork, clock: Clock) -> License:
    effective: Literal["now", "at_renewal"] = "at_renewal" if command.effective == "at_renewal" else "now"

    async def change(license: License, _: list[str]) -> tuple[License, EventData, None]:
        plan = await published(uow, license.tenant_id, command.plan_key, "plan", command.plan_version)
        after = licensing.change_plan(license, plan, effective=effective)
        return after, translate.plan_changed(license, after, effective, command.actor, command.reason), None

    return await _change(command, f"plan_changed_{effective}", change, uow=uow, clock=clock)


async def add_addon(command: commands.AddAddon, *, uow: UnitOfWork, clock: Clock) -> License:
    async def change(license: License, _: list[str]) -> tuple[License, EventData, None]:
        addon = await published(uow, license.tenant_id, command.addon_key, "addon", command.addon_version)
        after = licensing.add_addon(license, addon)
        event = translate.addons_changed(
            after, added=[addon.key], removed=[], actor=command.actor, reason=command.reason
        )
        return after, event, None

    return await _change(command, "addon_added", change, uow=uow, clock=clock)


async def remove_addon(command: commands.RemoveAddon, *, uow: UnitOfWork, clock: Clock) -> License:
    async def change(license: License, _: list[str]) -> tuple[License, EventData, None]:
        after = licensing.remove_addon(license, command.addon_key)
        event = translate.addons_changed(
            after, added=[], removed=[command.addon_key], actor=command.actor, reason=command.reason
        )
        return after, event, None

    return await _change(command, "addon_removed", change, uow=uow, clock=clock)


async def change_status(
    command: commands.ChangeStatus, *, uow: UnitOfWork, clock: Clock, restore_window: timedelta
) -> License:
    """suspended / reinstated / revoked / restored; undoing is possible within the window."""

    async def change(license: License, users: list[str]) -> tuple[License, EventData, list[str] | None]:
        now = clock.now()
        users_after: list[str] | None = None
        if command.transition == "suspended":
            after = licensing.suspend(license, now=now, users=users)
        elif command.transition == "revoked":
            after, users_after = licensing.revoke(license, now=now, users=users), []
        else:
            expected = (
                LicenseStatus.SUSPENDED if command.transition == "reinstated" else LicenseStatus.REVOKED
            )
            after, users_after = licensing.bring_back(
                license, expected=expected, now=now, window=restore_window
            )
        transition: Literal["suspended", "reinstated", "revoked", "restored"] = command.transition  # type: ignore[assignment]
        event = translate.status_changed(after, license.status, transition, command.actor, command.reason)
        return after, event, users_after

    return await _change(command, command.transition, change, uow=uow, clock=clock)
