"""Tenant lifecycle settings and the renewal cadence."""

from __future__ import annotations

from collections.abc import Sequence

from tangible_entitlements.domain.policy import LifecyclePolicy
from tangible_entitlements.service_layer import translate
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock


async def save_policy(tenant_id: str, policy: LifecyclePolicy, *, uow: UnitOfWork) -> LifecyclePolicy:
    async with uow:
        await uow.policies.save(tenant_id, policy)
        await uow.commit()
    return policy


async def announce_renewals(
    *, uow: UnitOfWork, clock: Clock, default_leads: Sequence[int], batch_size: int = 500
) -> int:
    """renewal_due_announced once per license term and lead time: the notice row and its
    event commit together, so replicas racing on it emit it once; a lead time whose day
    passed while no scheduler ran is announced on the next pass, marked late."""
    async with uow:
        notices = await uow.renewals.claim_due(clock.now(), default_leads, batch_size)
        for notice in notices:
            uow.outbox.add(translate.renewal_due(notice))
        await uow.commit()
    return len(notices)
