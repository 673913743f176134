"""The portal reads' fast lane: plain GETs of an account's balance or progress answered from
the replica's in-memory view, in uvicorn's parser callback when the service's own protocol
serves it (`answer_now`), else at the front of the ASGI app.

Reading memory costs microseconds; the framework layers around it (routing, dependencies,
exception and telemetry middleware) cost many times that. The fast lane answers only the
plain case: a valid read credential for the account, no query string, no `Origin`
(browsers' calls need CORS), an answer the view holds. Everything else (no or bad
credential, `?unit=`, an account not read lately or changed since) falls through to the
regular FastAPI route, which answers it (problem details included) and keeps its answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from tangible_rewards.entrypoints.dependencies import Container
from tangible_rewards.service_layer.live_view import LiveView
from tangible_runtime.auth import CredentialError
from tangible_runtime.domain import DomainError
from tangible_runtime.http_protocol import Answer, plain_read
from tangible_runtime.logs import get_logger
from tangible_runtime.service import ServiceRuntime

log = get_logger(__name__)

PREFIX = "/v1/accounts/"
ROUTES = {
    "balance": "/v1/accounts/{account_id}/balance",
    "progress": "/v1/accounts/{account_id}/progress",
}
DEFAULT_UNIT = "credits"  # the balance route's default `unit`


class FastLane:
    def __init__(self, app: FastAPI, inner: ASGIApp) -> None:
        self._app = app
        self._inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not await self._serve(scope, send):
            await self._inner(scope, receive, send)

    async def _serve(self, scope: Scope, send: Send) -> bool:
        if scope["method"] != "GET" or scope["query_string"]:
            return False
        found = answer(self._app, scope["path"], scope["headers"])
        if found is None:
            return False
        await send({"type": "http.response.start", "status": found.status, "headers": found.headers})
        await send({"type": "http.response.body", "body": found.body})
        return True


def answer(app: FastAPI, path: str, headers: Sequence[tuple[bytes, bytes]]) -> Answer | None:
    """The answer to a plain GET read (no query string), or None. Synchronous: the service's
    uvicorn protocol (tangible_runtime.http_protocol) calls it before making a task per
    request; the ASGI fast lane above calls it for any other server."""
    if not path.startswith(PREFIX):
        return None
    parts = path[len(PREFIX) :].split("/")
    if len(parts) != 2 or parts[1] not in ROUTES or not parts[0]:
        return None
    container: Container | None = getattr(app.state, "container", None)
    runtime: ServiceRuntime = app.state.runtime
    view = container.view if container is not None else None
    if view is None or not view.live or runtime.verifier is None:
        return None
    started = time.perf_counter()
    request = plain_read(headers)
    if request is None:
        return None
    account_id, read = parts
    try:
        principal = runtime.verifier.verify(request.token)
        principal.require("read")
        principal.require_account(account_id)
        assert container is not None
        body = _kept(view, read, principal.tenant_id, account_id, container)
    except (CredentialError, DomainError):
        return None  # the regular route answers with the problem details
    except Exception:  # never a bare 500 from here: the regular route reports it properly
        log.warning("fast_lane_fell_through", exc_info=True)
        return None
    if body is None:
        return None
    answer_headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if runtime.settings.cors.allowed_origins:
        answer_headers.append((b"vary", b"Origin"))  # as the CORS middleware marks every response
    metrics = runtime.metrics
    metrics.http_requests.labels("GET", ROUTES[read], "200").inc()
    metrics.http_latency.labels("GET", ROUTES[read]).observe(time.perf_counter() - started)
    return Answer(200, answer_headers, body)


def _kept(view: LiveView, read: str, tenant_id: str, account_id: str, container: Container) -> bytes | None:
    """The principal's own tenant keys the view: another tenant's answer is never found."""
    now = container.clock.now()
    if read == "balance":
        return view.balance(tenant_id, account_id, DEFAULT_UNIT, now)
    return view.progress(tenant_id, account_id, now)


def install(app: FastAPI) -> None:
    """Put the fast lane in front of the whole middleware stack (built on first request), and
    offer it to the service's uvicorn protocol as the app's `answer_now`, which answers in
    the parser callback, before uvicorn makes a task for the request."""
    build: Callable[[], ASGIApp] = app.build_middleware_stack

    def build_with_fast_lane() -> ASGIApp:
        return FastLane(app, build())

    def answer_now(path: str, headers: Sequence[tuple[bytes, bytes]]) -> Answer | None:
        return answer(app, path, headers)

    app.build_middleware_stack = build_with_fast_lane  # type: ignore[method-assign]
    app.answer_now = answer_now  # type: ignore[attr-defined]
