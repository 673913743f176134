"""The SDKs' local view: accounts' answers with their time-bound changes (`/entitlements/view`)
and a change stream (`/entitlements/stream`, server-sent events) that sends an account's new
answers whenever they change. Both are read from the replica's in-memory view.

Frames: `event: account` (data: an AccountTimeline; `id`: the position, for
`Last-Event-ID`), `event: resync` (re-read every account you hold: the catalog changed, or
the position could not be resumed), `event: credential-expired` (the stream ends). The
credential is re-checked at every heartbeat and wake-up: a revoked one ends the stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from tangible_entitlements.domain.errors import LicenseNotFound
from tangible_entitlements.entrypoints.api.checks import entitlement_json
from tangible_entitlements.entrypoints.dependencies import Container
from tangible_entitlements.entrypoints.schemas.stream import ViewPage
from tangible_entitlements.service_layer.change_hub import ChangeHub
from tangible_entitlements.service_layer.live_view import LiveView
from tangible_entitlements.service_layer.timeline import timeline
from tangible_runtime.app import ReadPrincipal, authenticate
from tangible_runtime.auth import CredentialError, Principal
from tangible_runtime.problems import ProblemError

router = APIRouter(tags=["sdk"])
MAX_ACCOUNTS = 1000
RETRY_MILLISECONDS = 1000
_DOCUMENTED: dict[int | str, dict[str, Any]] = {
    403: {"description": "The credential may not read these accounts."},
    503: {"description": "This process does not hold the in-memory view."},
}


def _account_json(
    view: LiveView, hub: ChangeHub, principal: Principal, account_id: str, now: datetime
) -> dict[str, Any]:
    shown = principal.sees_feature
    head: dict[str, Any] = {"account_id": account_id, "position": hub.position, "as_of": now}
    try:
        line = timeline(view, principal.tenant_id, account_id, now)
    except LicenseNotFound:
        return {**head, "valid_until": now, "missing": True, "segments": []}
    return {
        **head,
        "valid_until": line.valid_until,
        "missing": False,
        "segments": [
            {
                "start": s.start,
                "entitlements": [entitlement_json(r) for r in s.results if shown(r.entitlement.feature_key)],
            }
            for s in line.segments
        ],
    }


def _parts(request: Request) -> tuple[Container, LiveView, ChangeHub]:
    container: Container = request.app.state.container
    if container.view is None or container.changes is None or not container.view.loaded:
        raise ProblemError(503, "the entitlements view is not served here", type_="view-unavailable")
    return container, container.view, container.changes


def _scope(principal: Principal, accounts: list[str]) -> None:
    for account_id in accounts:
        principal.require_account(account_id)


@router.get(
    "/entitlements/view",
    response_model=ViewPage,
    summary="Accounts' entitlements with their time-bound changes, for an SDK's local view",
    responses=_DOCUMENTED,
)
async def read_view(
    request: Request,
    principal: ReadPrincipal,
    account: list[str] = Query(default=[], max_length=MAX_ACCOUNTS, description="These accounts."),
    after: str | None = Query(
        default=None, max_length=200, description="Without `account`: accounts after this."
    ),
    limit: int = Query(default=500, ge=1, le=MAX_ACCOUNTS),
) -> Response:
    _scope(principal, account)
    container, view, hub = _parts(request)
    tenant_id = principal.tenant_id
    next_after = None
    if account:
        wanted = list(dict.fromkeys(account))
    elif principal.account_id is not None:
        wanted = [principal.account_id]
    else:  # the whole tenant, in pages
        ids = sorted(a for t, a in view.licenses if t == tenant_id and (after is None or a > after))
        wanted = ids[:limit]
        next_after = wanted[-1] if len(ids) > limit else None
    now = container.clock.now()
    position = hub.position
    accounts = [_account_json(view, hub, principal, a, now) for a in wanted]
    body = {"position": position, "accounts": accounts, "next_after": next_after}
    return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), media_type="application/json")


@router.get(
    "/entitlements/stream",
    summary="Changes of entitlements, as server-sent events (resume with Last-Event-ID)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}, **_DOCUMENTED},
)
async def stream(
    request: Request,
    principal: ReadPrincipal,
    account: str | None = Query(
        default=None, max_length=200, description="Only this account (an account-scoped credential's own)."
    ),
    last_event_id: str | None = Header(default=None, max_length=200, description="Resume after this event."),
) -> StreamingResponse:
    if account is not None:
        principal.require_account(account)
    scoped = account or principal.account_id
    container, view, hub = _parts(request)

    def still_valid() -> None:
        authenticate(request)

    events = _frames(container, view, hub, principal, scoped, last_event_id, still_valid)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


async def _frames(
    container: Container,
    view: LiveView,
    hub: ChangeHub,
    principal: Principal,
    account_id: str | None,
    last_event_id: str | None,
    still_valid: Callable[[], None],
) -> AsyncIterator[bytes]:
    heartbeat = container.settings.stream_heartbeat_seconds
    with hub.subscribe(principal.tenant_id, account_id) as sub:
        yield f"retry: {RETRY_MILLISECONDS}\n\n".encode()
        # not resumed: the client re-reads its accounts (it cannot know what it missed)
        resumed = last_event_id is not None and hub.resume(sub, last_event_id)
        ready = orjson.dumps({"resumed": resumed})
        # resumed: the pending changes carry the positions; else the client reads all from here
        mark = b"" if resumed else b"id: " + hub.position.encode() + b"\n"
        yield b"event: ready\n" + mark + b"data: " + ready + b"\n\n"
        while True:
            try:
                await asyncio.wait_for(sub.wake.wait(), heartbeat)
            except TimeoutError:
                pass
            try:
                still_valid()
            except CredentialError as error:
                detail = orjson.dumps({"detail": str(error)})
                yield b"event: credential-expired\ndata: " + detail + b"\n\n"
                return
            if not sub.wake.is_set():
                yield b": heartbeat\n\n"
                continue
            sub.wake.clear()
            if sub.resync:
                sub.resync = False
                sub.pending.clear()
                yield b"event: resync\nid: " + hub.position.encode() + b"\ndata: {}\n\n"
                continue
            pending, sub.pending = sub.pending, set()
            now = container.clock.now()
            frames = []
            for changed in sorted(pending):
                answer = _account_json(view, hub, principal, changed, now)
                data = orjson.dumps(answer, option=orjson.OPT_UTC_Z)
                frames.append(b"event: account\nid: " + hub.position.encode() + b"\ndata: " + data + b"\n\n")
            yield b"".join(frames)
