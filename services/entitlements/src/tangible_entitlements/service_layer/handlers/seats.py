"""Seat handlers: assign / unassign users within the purchased seats."""

from __future__ import annotations

from tangible_entitlements.domain import audit, commands, licensing
from tangible_entitlements.domain.errors import LicenseNotFound, SeatNotAssigned, SeatsFull
from tangible_entitlements.domain.model import License
from tangible_entitlements.service_layer import translate
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock


async def _locked(uow: UnitOfWork, command: commands.LicenseChange) -> tuple[License, list[str]]:
    """The license row lock serialises seat changes, so the count cannot overshoot."""
    license = await uow.licenses.get(command.tenant_id, command.license_id, for_update=True)
    if license is None:
        raise LicenseNotFound(f"license '{command.license_id}' does not exist")
    return license, await uow.seats.users(license.tenant_id, license.id)


async def assign_seat(command: commands.AssignSeat, *, uow: UnitOfWork, clock: Clock) -> tuple[bool, int]:
    """(newly assigned, seats assigned now); assigning a seat holder again changes nothing."""
    async with uow:
        license, users = await _locked(uow, command)
        if command.user_id in users:
            return False, len(users)
        licensing.require_changeable(license)
        if len(users) >= license.seats:
            raise SeatsFull(
                f"all {license.seats} seats are assigned; unassign one or buy more",
                purchased=license.seats,
                assigned=len(users),
            )
        await uow.seats.assign(license, command.user_id, clock.now())
        assigned = await _record(uow, command, license, len(users), added=True, clock=clock)
        await uow.commit()
    return True, assigned


async def unassign_seat(command: commands.UnassignSeat, *, uow: UnitOfWork, clock: Clock) -> int:
    async with uow:
        license, users = await _locked(uow, command)
        if command.user_id not in users:
            raise SeatNotAssigned(f"user '{command.user_id}' holds no seat on this license")
        await uow.seats.unassign(license.tenant_id, license.id, [command.user_id])
        assigned = await _record(uow, command, license, len(users), added=False, clock=clock)
        await uow.commit()
    return assigned


async def _record(
    uow: UnitOfWork,
    command: commands.AssignSeat | commands.UnassignSeat,
    license: License,
    before: int,
    *,
    added: bool,
    clock: Clock,
) -> int:
    """History (seat counts before and after) and the event; returns the count after."""
    after = before + (1 if added else -1)
    await uow.history.append(
        [
            audit.license_entry(
                license,
                action="seat_assigned" if added else "seat_unassigned",
                actor=command.actor,
                reason=command.reason,
                before={"user_id": command.user_id, "assigned": before},
                after={"user_id": command.user_id, "assigned": after},
                at=clock.now(),
            )
        ],
    )
    uow.outbox.add(translate.seat_changed(license, command.user_id, after, added=added))
    return after
