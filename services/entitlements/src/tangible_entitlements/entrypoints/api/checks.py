"""The check API (the hot path): answered from the replica's in-memory view, with an ETag.

Responses are built as plain dicts and serialised once with orjson: the ETag is a hash of
those bytes, so it changes exactly when the answer does (usage, license, grant expiry …).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime

from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_entitlements.entrypoints.schemas.checks import EntitlementList, EntitlementRead
from tangible_entitlements.service_layer import views
from tangible_entitlements.service_layer.checks import CheckResult
from tangible_runtime.app import ReadPrincipal

router = APIRouter(tags=["checks"])

# `at` this far in the past (or more) is answered from the database's history
PAST = timedelta(seconds=1)
AT = Query(default=None, description="As-of time (RFC 3339); default now. Past times read the history.")


def _entitlement(result: CheckResult) -> dict[str, Any]:
    e = result.entitlement
    return {
        "feature_key": e.feature_key,
        "kind": e.kind.value,
        "has_access": e.has_access,
        "limit": e.limit,
        "usage": e.usage,
        "remaining": e.remaining,
        "overage": e.overage,
        "limit_type": "hard" if e.hard else "soft",
        "period_start": result.period_start,
        "period_end": result.period_end,
        "config": e.config,
        "sources": [
            {"kind": s.kind, "key": s.key, "version": s.version, "expires_at": s.expires_at}
            for s in e.sources
        ],
    }


def _respond(request: Request, payload: dict[str, Any]) -> Response:
    body = orjson.dumps(payload, option=orjson.OPT_UTC_Z)
    etag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    wanted = request.headers.get("if-none-match")
    if wanted is not None and etag in {tag.strip().removeprefix("W/") for tag in wanted.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


async def _check(
    container: ContainerDep, tenant_id: str, account_id: str, at: datetime | None, feature_key: str | None
) -> tuple[list[CheckResult], datetime]:
    now = container.clock.now()
    moment = at or now
    view = container.view
    # an account the view does not know yet (just licensed) is read from the database
    if view is not None and moment > now - PAST and (tenant_id, account_id) in view.licenses:
        return view.check(tenant_id, account_id, at=moment, feature_key=feature_key), moment
    results = await views.check_entitlements(
        container.new_uow(),
        tenant_id=tenant_id,
        account_id=account_id,
        at=moment,
        now=now,
        feature_key=feature_key,
    )
    return results, moment


@router.get(
    "/accounts/{account_id}/entitlements",
    response_model=EntitlementList,
    summary="Every entitlement of an account, with usage, remaining and sources",
)
async def list_entitlements(
    account_id: str,
    request: Request,
    principal: ReadPrincipal,
    container: ContainerDep,
    at: AwareDatetime | None = AT,
) -> Response:
    principal.require_account(account_id)
    results, moment = await _check(container, principal.tenant_id, account_id, at, None)
    return _respond(
        request, {"account_id": account_id, "at": moment, "entitlements": [_entitlement(r) for r in results]}
    )


@router.get(
    "/accounts/{account_id}/entitlements/{feature_key}",
    response_model=EntitlementRead,
    summary="May this account use this feature, and how much is left?",
)
async def check_entitlement(
    account_id: str,
    feature_key: str,
    request: Request,
    principal: ReadPrincipal,
    container: ContainerDep,
    at: AwareDatetime | None = AT,
) -> Response:
    principal.require_account(account_id)
    [result], _ = await _check(container, principal.tenant_id, account_id, at, feature_key)
    return _respond(request, _entitlement(result))
