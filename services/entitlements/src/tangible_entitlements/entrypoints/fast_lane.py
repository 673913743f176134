"""The check API's fast lane: plain GET checks answered from the view at the ASGI level.

A check costs a few microseconds; the framework layers around it (routing, dependencies,
exception and telemetry middleware) cost many times that. The fast lane answers only the
plain case: a valid read credential for the account (not limited to some features), no
query string, no `Origin` (browsers' calls need CORS), an account the view knows.
Everything else (no or bad credential, `?at=`, unknown account or feature) falls through
to the regular FastAPI route, which answers it (problem details included) exactly as it
would have anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from tangible_entitlements.entrypoints.api.checks import not_modified_for, render
from tangible_entitlements.entrypoints.dependencies import Container
from tangible_runtime.auth import CredentialError
from tangible_runtime.domain import DomainError
from tangible_runtime.logs import get_logger
from tangible_runtime.service import ServiceRuntime

log = get_logger(__name__)

PREFIX = "/v1/accounts/"
ROUTES = {
    2: "/v1/accounts/{account_id}/entitlements",
    3: "/v1/accounts/{account_id}/entitlements/{feature_key}",
}


class FastLane:
    def __init__(self, app: FastAPI, inner: ASGIApp) -> None:
        self._app = app
        self._inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not await self._serve(scope, send):
            await self._inner(scope, receive, send)

    async def _serve(self, scope: Scope, send: Send) -> bool:
        path: str = scope["path"]
        if scope["method"] != "GET" or scope["query_string"] or not path.startswith(PREFIX):
            return False
        parts = path[len(PREFIX) :].split("/")
        if len(parts) not in ROUTES or parts[1] != "entitlements" or not parts[0]:
            return False
        container: Container | None = getattr(self._app.state, "container", None)
        runtime: ServiceRuntime = self._app.state.runtime
        view = container.view if container is not None else None
        if view is None or not view.loaded or runtime.verifier is None:
            return False
        started = time.perf_counter()
        authorization = if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"origin":
                return False  # a browser's call: the CORS middleware must answer it
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        account_id = parts[0]
        feature_key = parts[2] if len(parts) == 3 else None
        try:
            principal = runtime.verifier.verify(token.strip())
            principal.require("read")
            principal.require_account(account_id)
            if principal.features is not None or (principal.tenant_id, account_id) not in view.licenses:
                return False
            assert container is not None
            body, etag = render(view, principal.tenant_id, account_id, feature_key, container.clock.now())
        except (CredentialError, DomainError):
            return False  # the regular route answers with the problem details
        except Exception:  # never a bare 500 from here: the regular route reports it properly
            log.warning("fast_lane_fell_through", exc_info=True)
            return False
        not_modified = if_none_match is not None and not_modified_for(if_none_match, etag)
        headers = [(b"etag", etag.encode()), (b"cache-control", b"private, no-cache")]
        if not_modified:
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
        else:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        metrics = runtime.metrics
        route = ROUTES[len(parts)]
        metrics.http_requests.labels("GET", route, "304" if not_modified else "200").inc()
        metrics.http_latency.labels("GET", route).observe(time.perf_counter() - started)
        return True


def install(app: FastAPI) -> None:
    """Put the fast lane in front of the whole middleware stack (built on first request)."""
    build: Callable[[], ASGIApp] = app.build_middleware_stack

    def build_with_fast_lane() -> ASGIApp:
        return FastLane(app, build())

    app.build_middleware_stack = build_with_fast_lane  # type: ignore[method-assign]
