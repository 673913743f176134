"""The account's open upgrade suggestions, for the customer's own view (read or its token)."""

from __future__ import annotations

from fastapi import APIRouter

from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_entitlements.entrypoints.schemas.lifecycle import (
    SuggestionEvidence,
    UpgradeSuggestionList,
    UpgradeSuggestionRead,
)
from tangible_entitlements.service_layer import views
from tangible_runtime.app import ReadPrincipal

router = APIRouter()


@router.get(
    "/accounts/{account_id}/upgrade-suggestions",
    response_model=UpgradeSuggestionList,
    tags=["signals"],
    summary="Open upgrade suggestions: the plan or add-on that fits, with the evidence",
    description=(
        "The latest suggestion per plan or add-on made since the license last changed plan (now "
        "or at renewal), gained an add-on or converted a trial, for what it does not have yet. "
        "A portal token limited to some features sees only the evidence about them (and no "
        "suggestion without any). Checkout stays with the vendor: this only says what fits."
    ),
)
async def upgrade_suggestions(
    account_id: str, principal: ReadPrincipal, container: ContainerDep
) -> UpgradeSuggestionList:
    principal.require_account(account_id)
    found = await views.upgrade_suggestions(
        container.new_uow(), tenant_id=principal.tenant_id, account_id=account_id
    )
    suggestions = []
    for s in found:
        evidence = [
            SuggestionEvidence.model_validate(e)
            for e in s.payload.get("evidence", [])
            if principal.sees_feature(e["feature_key"])
        ]
        if not evidence:
            continue
        suggestions.append(
            UpgradeSuggestionRead.model_validate(
                {**s.payload, "suggested_at": s.suggested_at, "evidence": evidence}
            )
        )
    return UpgradeSuggestionList(account_id=account_id, suggestions=suggestions)
