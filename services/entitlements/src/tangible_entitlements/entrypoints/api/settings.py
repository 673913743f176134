"""A tenant's lifecycle settings (admin): renewal lead times, trial rules, signal thresholds."""

from __future__ import annotations

from fastapi import APIRouter

from tangible_entitlements.domain.policy import LifecyclePolicy
from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_entitlements.entrypoints.schemas.lifecycle import LifecycleSettings
from tangible_entitlements.service_layer import handlers
from tangible_runtime.app import AdminPrincipal

router = APIRouter(tags=["settings"])


@router.get("/settings/lifecycle", response_model=LifecycleSettings)
async def get_lifecycle(principal: AdminPrincipal, container: ContainerDep) -> LifecycleSettings:
    async with container.new_uow() as uow:
        policy = await uow.policies.get(principal.tenant_id)
    return LifecycleSettings.model_validate(policy.to_json())


@router.put(
    "/settings/lifecycle",
    response_model=LifecycleSettings,
    summary="Replace the lifecycle settings (omitted fields take their defaults)",
)
async def put_lifecycle(
    body: LifecycleSettings, principal: AdminPrincipal, container: ContainerDep
) -> LifecycleSettings:
    policy = LifecyclePolicy.from_json(body.model_dump())
    saved = await handlers.save_policy(principal.tenant_id, policy, uow=container.new_uow())
    return LifecycleSettings.model_validate(saved.to_json())
