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

from tangible_entitlements.entrypoints.dependencies import Container
from tangible_entitlements.entrypoints.schemas.checks import EntitlementList, EntitlementRead
from tangible_entitlements.entrypoints.schemas.common import Rfc3339
from tangible_entitlements.service_layer import views
from tangible_entitlements.service_layer.answer_cache import KeptAnswer
from tangible_entitlements.service_layer.checks import CheckResult
from tangible_entitlements.service_layer.live_view import LiveView
from tangible_runtime.app import ReadPrincipal
from tangible_runtime.auth import Principal

router = APIRouter(tags=["checks"])

# `at` this far in the past (or more) is answered from the database's history
PAST = timedelta(seconds=1)
AT = Query(default=None, description="As-of time (RFC 3339); default now. Past times read the history.")


def entitlement_json(result: CheckResult) -> dict[str, Any]:
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


def etag_of(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'


def not_modified_for(if_none_match: str, etag: str) -> bool:
    return bool({etag, "*"} & {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")})


def payload_of(results: list[CheckResult], feature_key: str | None) -> bytes:
    """The entitlement (one feature) or the list of them, serialised."""
    if feature_key is not None:
        return orjson.dumps(entitlement_json(results[0]), option=orjson.OPT_UTC_Z)
    return orjson.dumps([entitlement_json(r) for r in results], option=orjson.OPT_UTC_Z)


def body_of(payload: bytes, account_id: str, feature_key: str | None, moment: datetime) -> bytes:
    if feature_key is not None:
        return payload
    head = orjson.dumps({"account_id": account_id, "at": moment}, option=orjson.OPT_UTC_Z)
    return head[:-1] + b',"entitlements":' + payload + b"}"


def encode(
    results: list[CheckResult], account_id: str, feature_key: str | None, moment: datetime
) -> tuple[bytes, str]:
    """The response bytes and their ETag: a hash of the entitlements (not of the moment, so
    that an unchanged answer keeps its tag)."""
    payload = payload_of(results, feature_key)
    return body_of(payload, account_id, feature_key, moment), etag_of(payload)


def render(
    view: LiveView, tenant_id: str, account_id: str, feature_key: str | None, now: datetime
) -> tuple[bytes, str]:
    """The answer for now, from memory: kept from an earlier request while it holds (see
    service_layer/answer_cache.py), else evaluated and kept."""
    account = (tenant_id, account_id)
    kept = view.answers.get(account, feature_key, now)
    if kept is None:
        results = view.check(tenant_id, account_id, at=now, feature_key=feature_key)
        payload = payload_of(results, feature_key)
        until = view.next_moment(tenant_id, account_id, results, now)
        kept = KeptAnswer(payload, etag_of(payload), now, until)
        view.answers.keep(account, feature_key, kept)
    return body_of(kept.payload, account_id, feature_key, now), kept.etag


def _respond(request: Request, encoded: tuple[bytes, str]) -> Response:
    body, etag = encoded
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    wanted = request.headers.get("if-none-match")
    if wanted is not None and not_modified_for(wanted, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


async def _serve(
    request: Request, principal: Principal, account_id: str, feature_key: str | None, at: datetime | None
) -> Response:
    principal.require_account(account_id)
    if feature_key is not None:
        principal.require_feature(feature_key)
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
    # a portal token limited to some features sees only those
    visible = [r for r in results if principal.sees_feature(r.entitlement.feature_key)]
    return _respond(request, encode(visible, account_id, feature_key, moment))


@router.get(
    "/accounts/{account_id}/entitlements",
    response_model=EntitlementList,
    summary="Every entitlement of an account, with usage, remaining and sources",
)
async def list_entitlements(
    account_id: str, request: Request, principal: ReadPrincipal, at: Rfc3339 | None = AT
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
    at: Rfc3339 | None = AT,
) -> Response:
    return await _serve(request, principal, account_id, feature_key, at)
