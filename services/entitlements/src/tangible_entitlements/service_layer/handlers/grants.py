"""Grant handlers: reward grants (consumed), manual grants, ending and expiring them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tangible_entitlements.domain import commands
from tangible_entitlements.domain.audit import HistoryEntry
from tangible_entitlements.domain.errors import FeatureNotFound, GrantNotFound, LicenseNotFound
from tangible_entitlements.service_layer import translate
from tangible_entitlements.service_layer.handlers.metering import recover_after_limit_change
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock


def _grant_json(grant: commands.GrantBenefit) -> dict[str, Any]:
    return {
        "grant_id": grant.grant_id,
        "feature_key": grant.feature_key,
        "kind": grant.kind,
        "value": grant.value,
        "source": grant.source,
        "starts_at": grant.starts_at.isoformat(),
        "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
    }


async def _apply(uow: UnitOfWork, grants: Sequence[commands.GrantBenefit], clock: Clock) -> list[str]:
    new = set(await uow.grants.add_many(grants))
    applied = [g for g in grants if g.grant_id in new]
    for grant in applied:
        uow.outbox.add(translate.grant_applied(grant))
    accounts = sorted({(g.tenant_id, g.account_id) for g in applied})
    licenses = await uow.licenses.for_accounts(accounts)
    now = clock.now()
    await uow.history.append(
        [
            HistoryEntry(
                g.tenant_id,
                g.account_id,
                lic.id if (lic := licenses.get((g.tenant_id, g.account_id))) else None,
                "grant_applied",
                g.actor,
                g.reason,
                None,
                _grant_json(g),
                now,
            )
            for g in applied
        ]
    )
    for license in licenses.values():
        if license.status.grants_access:
            await recover_after_limit_change(uow, license, clock.now())
    return [g.grant_id for g in applied]


async def apply_reward_grants(command: commands.ApplyRewardGrants, *, uow: UnitOfWork, clock: Clock) -> None:
    """Exactly once: the inbox claim and the grant rows commit together (ids are also
    deterministic per reward, so even a second delivery path could not double-apply)."""
    async with uow:
        fresh = await uow.inbox(command.consumer).claim(event_id for event_id, _ in command.grants)
        grants = {event_id: g for event_id, g in command.grants if event_id in fresh and g is not None}
        await _apply(uow, list(grants.values()), clock)
        await uow.commit()


async def grant_benefit(command: commands.GrantBenefit, *, uow: UnitOfWork, clock: Clock) -> None:
    async with uow:
        if await uow.catalog.feature(command.tenant_id, command.feature_key) is None:
            raise FeatureNotFound(f"feature '{command.feature_key}' does not exist")
        if await uow.licenses.for_account(command.tenant_id, command.account_id) is None:
            raise LicenseNotFound(f"account '{command.account_id}' has no license")
        await _apply(uow, [command], clock)
        await uow.commit()


async def end_grant(command: commands.EndGrant, *, uow: UnitOfWork, clock: Clock) -> None:
    """End a grant now; the scheduler announces its expiry like any other."""
    async with uow:
        grant = await uow.grants.get(command.tenant_id, command.grant_id)
        if grant is None:
            raise GrantNotFound(f"grant '{command.grant_id}' does not exist")
        now = clock.now()
        if grant.expires_at is None or grant.expires_at > now:
            await uow.grants.end(command.tenant_id, command.grant_id, now)
            license = await uow.licenses.for_account(command.tenant_id, grant.account_id)
            expires = grant.expires_at.isoformat() if grant.expires_at else None
            entry = HistoryEntry(
                command.tenant_id,
                grant.account_id,
                license.id if license else None,
                "grant_ended",
                command.actor,
                command.reason,
                {"grant_id": command.grant_id, "expires_at": expires},
                {"grant_id": command.grant_id, "expires_at": now.isoformat()},
                now,
            )
            await uow.history.append([entry])
        await uow.commit()


async def expire_grants(*, uow: UnitOfWork, clock: Clock, batch_size: int = 500) -> int:
    """Announce each grant past its expiry exactly once (claimed with SKIP LOCKED)."""
    async with uow:
        expired = await uow.grants.claim_expired(clock.now(), batch_size)
        for grant in expired:
            uow.outbox.add(translate.grant_expired(grant))
        await uow.commit()
    return len(expired)
