"""What's new for an account at renewal: its plan version against the latest published one,
and the reward benefits granted during its term."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from tangible_entitlements.domain.whats_new import plan_changes, reward_benefit
from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_runtime.app import ReadPrincipal
from tangible_runtime.domain import NotFound

router = APIRouter(tags=["reports"])
MAX_GRANTS = 500


class ChangeRead(BaseModel):
    kind: str
    feature_key: str
    text: str


class RewardBenefitRead(BaseModel):
    feature_key: str
    text: str
    granted_at: datetime


class WhatsNewRead(BaseModel):
    account_id: str
    plan_key: str
    plan_version: int
    latest_version: int
    changes: list[ChangeRead]
    reward_benefits: list[RewardBenefitRead]


@router.get(
    "/accounts/{account_id}/whats-new",
    response_model=WhatsNewRead,
    responses={404: {"description": "The account has no license"}},
    summary="What renewing brings: the latest plan version's changes, and rewards' benefits this term",
)
async def whats_new(
    account_id: str,
    principal: ReadPrincipal,
    container: ContainerDep,
    locale: Literal["en", "de"] = Query(default="en", description="The language of the lines' text."),
) -> WhatsNewRead:
    principal.require_account(account_id)
    tenant = principal.tenant_id
    async with container.new_uow() as uow:
        license = await uow.licenses.for_account(tenant, account_id)
        if license is None:
            raise NotFound(f"no license for account '{account_id}'")
        current = await uow.catalog.item(tenant, license.plan_key, license.plan_version)
        published = {i.key: i for i in await uow.catalog.published_latest(tenant)}
        features = {f.key: f for f in (await uow.catalog.features([tenant])).get(tenant, [])}
        grants, _ = await uow.grants.page_for_account(tenant, account_id, limit=MAX_GRANTS, offset=0)
    latest = published.get(license.plan_key) or current
    changes = (
        plan_changes(current, latest, features, locale) if current is not None and latest is not None else []
    )

    def benefit(feature_key: str, value: object) -> str:
        name = features[feature_key].name if feature_key in features else feature_key
        return reward_benefit(name, value, locale)

    benefits = [
        RewardBenefitRead(
            feature_key=g.feature_key, text=benefit(g.feature_key, g.value), granted_at=g.starts_at
        )
        for g in grants
        if g.source.startswith("reward:") and license.term_start <= g.starts_at.date() <= license.term_end
    ]
    return WhatsNewRead(
        account_id=account_id,
        plan_key=license.plan_key,
        plan_version=license.plan_version,
        latest_version=latest.version if latest is not None else license.plan_version,
        changes=[ChangeRead(kind=c.kind, feature_key=c.feature_key, text=c.text) for c in changes],
        reward_benefits=benefits,
    )
