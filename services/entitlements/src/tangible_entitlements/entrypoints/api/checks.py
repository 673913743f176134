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
from pydantic import AwareDatetime, TypeAdapter, ValidationError
from starlette.routing import Route

from tangible_entitlements.entrypoints.dependencies import Container
from tangible_entitlements.entrypoints.schemas.checks import EntitlementList, EntitlementRead
from tangible_entitlements.service_layer import views
from tangible_entitlements.service_layer.checks import CheckResult
from tangible_runtime.app import ReadPrincipal, authenticate
from tangible_runtime.auth import Principal
from tangible_runtime.problems import ProblemError

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
    if wanted is not None and ({etag, "*"} & {tag.strip().removeprefix("W/") for tag in wanted.split(",")}):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


async def _serve(
    request: Request, principal: Principal, account_id: str, feature_key: str | None, at: datetime | None
) -> Response:
    principal.require_account(account_id)
    container: Container = request.app.state.container
    tenant_id = principal.tenant_id
    now = container.clock.now()
    moment = at or now
    view = container.view
    # an account the view does not know yet (just licensed) is read from the database
    if view is not None and moment > now - PAST and (tenant_id, account_id) in view.licenses:
        results = view.check(tenant_id, account_id, at=moment, feature_key=feature_key)
    else:
        results = await views.check_entitlements(
            container.new_uow(),
            tenant_id=tenant_id,
            account_id=account_id,
            at=moment,
            now=now,
            feature_key=feature_key,
        )
    if feature_key is not None:
        return _respond(request, _entitlement(results[0]))
    payload = {"account_id": account_id, "at": moment, "entitlements": [_entitlement(r) for r in results]}
    return _respond(request, payload)


@router.get(
    "/accounts/{account_id}/entitlements",
    response_model=EntitlementList,
    summary="Every entitlement of an account, with usage, remaining and sources",
)
async def list_entitlements(
    account_id: str, request: Request, principal: ReadPrincipal, at: AwareDatetime | None = AT
) -> Response:
    return await _serve(request, principal, account_id, None, at)


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
    at: AwareDatetime | None = AT,
) -> Response:
    return await _serve(request, principal, account_id, feature_key, at)


# The same two endpoints as plain Starlette routes placed before every other route: the
# FastAPI ones above document and validate them; these skip per-request dependency solving
# and nested-router matching, which cost more than the check itself.
_AT = TypeAdapter(AwareDatetime)


async def _fast(request: Request) -> Response:
    principal = authenticate(request)
    principal.require("read")
    raw = request.query_params.get("at")
    try:
        at = _AT.validate_python(raw) if raw is not None else None
    except ValidationError as error:
        detail = str(error.errors()[0]["msg"])
        raise ProblemError(422, "invalid 'at'", type_="validation-error", detail=detail) from None
    params = request.path_params
    request.scope["route"] = request.scope.get("route") or _TEMPLATES[len(params)]
    return await _serve(request, principal, params["account_id"], params.get("feature_key"), at)


FAST_ROUTES = [
    Route("/v1/accounts/{account_id}/entitlements", _fast, methods=["GET"]),
    Route("/v1/accounts/{account_id}/entitlements/{feature_key}", _fast, methods=["GET"]),
]
_TEMPLATES = {1: FAST_ROUTES[0], 2: FAST_ROUTES[1]}
