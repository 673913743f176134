"""Spending and correcting credits: idempotent redemptions, admin adjustments and voids."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from tangible_rewards.domain import commands
from tangible_rewards.domain.errors import InsufficientCredits
from tangible_rewards.domain.ledger import money
from tangible_rewards.entrypoints.dependencies import ContainerDep
from tangible_rewards.entrypoints.schemas.accounts import (
    AdjustmentCreate,
    BurnRead,
    LedgerChangeRead,
    RedemptionCreate,
    RedemptionRead,
    VoidCreate,
)
from tangible_rewards.service_layer import handlers
from tangible_rewards.service_layer.handlers.ledger import LedgerChange, Redemption
from tangible_runtime.app import AdminPrincipal
from tangible_runtime.problems import ProblemError

router = APIRouter(prefix="/v1/accounts/{account_id}", tags=["credits"])

PROBLEMS = "https://tangible.dev/problems/"


def _render(result: Redemption | InsufficientCredits) -> tuple[int, dict[str, Any]]:
    """The response stored with the Idempotency-Key, replayed byte for byte."""
    if isinstance(result, InsufficientCredits):
        return 422, {"type": PROBLEMS + result.code, "title": result.message, "status": 422, **result.details}
    body = RedemptionRead(
        redemption_id=result.id,
        transaction_id=result.transaction_id,
        account_id=result.account_id,
        amount=result.amount,
        unit=result.unit,
        balance_after=result.balance_after,
        burned=[
            BurnRead(bucket_id=b.bucket.id, amount=b.amount, expires_at=b.bucket.expires_at)
            for b in result.burns
        ],
        description=result.description,
        created_at=result.created_at,
    )
    return 201, body.model_dump(mode="json")


def _request_hash(account_id: str, body: RedemptionCreate) -> str:
    canonical = {"account_id": account_id, **body.model_dump(mode="json"), "amount": str(money(body.amount))}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


# Required, but read as optional so that its absence is the documented 400 rather than a
# validation 422; declared here, since the parameter itself stays out of the document.
IDEMPOTENCY_KEY_DOC = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "The client's key for this redemption: a retry with the same key and body "
    "answers the first outcome again.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


@router.post(
    "/redemptions",
    status_code=201,
    response_model=RedemptionRead,
    summary="Spend credits (idempotent)",
    description=(
        "Burns by priority, then earliest expiry, then oldest. The same Idempotency-Key with the same "
        "body answers the first outcome again (header Idempotent-Replayed: true), including a 422; "
        "with a different body it is a 409."
    ),
    responses={
        400: {"description": "No Idempotency-Key header"},
        409: {"description": "Idempotency-Key reused with another body"},
        422: {"description": "Balance too low"},
    },
    openapi_extra={"parameters": [IDEMPOTENCY_KEY_DOC]},
)
async def redeem(
    account_id: str,
    body: RedemptionCreate,
    principal: AdminPrincipal,
    container: ContainerDep,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=255, include_in_schema=False)
    ] = None,
) -> JSONResponse:
    principal.require_account(account_id)
    if not idempotency_key:
        raise ProblemError(400, "an Idempotency-Key header is required", type_="idempotency-key-missing")
    command = commands.Redeem(
        tenant_id=principal.tenant_id,
        account_id=account_id,
        amount=body.amount,
        unit=body.unit,
        idempotency_key=idempotency_key,
        request_hash=_request_hash(account_id, body),
        description=body.description,
        actor=principal.credential_id,
    )
    outcome = await handlers.redeem(command, uow=container.new_uow(), clock=container.clock, render=_render)
    return JSONResponse(
        outcome.body,
        status_code=outcome.status_code,
        media_type="application/json" if outcome.status_code < 400 else "application/problem+json",
        headers={"Idempotent-Replayed": "true"} if outcome.replayed else None,
    )


def _change(change: LedgerChange) -> LedgerChangeRead:
    return LedgerChangeRead.model_validate(change, from_attributes=True)


@router.post(
    "/adjustments", status_code=201, response_model=LedgerChangeRead, summary="Adjust a balance (admin)"
)
async def adjust(
    account_id: str, body: AdjustmentCreate, principal: AdminPrincipal, container: ContainerDep
) -> LedgerChangeRead:
    command = commands.Adjust(
        tenant_id=principal.tenant_id,
        account_id=account_id,
        amount=body.amount,
        unit=body.unit,
        actor=principal.credential_id,
        reason=body.reason,
        expires_at=body.expires_at,
        priority=body.priority,
    )
    return _change(await handlers.adjust(command, uow=container.new_uow(), clock=container.clock))


@router.post(
    "/rewards/{reward_id}/void",
    response_model=LedgerChangeRead,
    summary="Void a credits grant: what is left of it leaves the balance (admin)",
)
async def void(
    account_id: str, reward_id: str, body: VoidCreate, principal: AdminPrincipal, container: ContainerDep
) -> LedgerChangeRead:
    command = commands.VoidGrant(
        principal.tenant_id, account_id, reward_id, principal.credential_id, body.reason
    )
    return _change(await handlers.void_grant(command, uow=container.new_uow(), clock=container.clock))
