"""The check API's fast lane: plain GET checks answered from the view, before FastAPI.

A check costs a few microseconds; the framework layers around it (routing, dependencies,
exception and telemetry middleware) cost many times that. The fast lane answers only the
plain case: a valid read credential for the account (not limited to some features), no
query string, no `Origin` (browsers' calls need CORS), an account the view knows.
Everything else (no or bad credential, `?at=`, unknown account or feature) falls through
to the regular FastAPI route, which answers it (problem details included) exactly as it
would have anyway.

Served by the service's own uvicorn protocol, the fast lane answers in the parser callback,
before uvicorn makes a task for the request (`answer_now`); served any other way (a test's
ASGI transport, another server), at the front of the ASGI app (`serve`). Both give the same
answer: `answer` is the one place it is made.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import cast

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from tangible_entitlements.entrypoints.api.checks import not_modified_for, render
from tangible_entitlements.entrypoints.dependencies import Container
from tangible_runtime.auth import CredentialError
from tangible_runtime.domain import DomainError
from tangible_runtime.http_protocol import Answer, plain_read
from tangible_runtime.logs import get_logger
from tangible_runtime.metrics import RuntimeMetrics
from tangible_runtime.service import ServiceRuntime

log = get_logger(__name__)

PREFIX = "/v1/accounts/"
ROUTES = {
    2: "/v1/accounts/{account_id}/entitlements",
    3: "/v1/accounts/{account_id}/entitlements/{feature_key}",
}


CACHE_CONTROL = (b"cache-control", b"private, no-cache")
CONTENT_TYPE = (b"content-type", b"application/json")


class _RouteMetrics:
    """The labelled children of the request counter and latency histogram, looked up once:
    `labels()` takes a lock and builds tuples, a cost of the same order as the check itself."""

    def __init__(self, metrics: RuntimeMetrics) -> None:
        self.ok = {route: metrics.http_requests.labels("GET", route, "200") for route in ROUTES.values()}
        self.not_modified = {
            route: metrics.http_requests.labels("GET", route, "304") for route in ROUTES.values()
        }
        self.latency = {route: metrics.http_latency.labels("GET", route) for route in ROUTES.values()}


class FastLane:
    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._metrics: tuple[RuntimeMetrics, _RouteMetrics] | None = None

    def _route_metrics(self, metrics: RuntimeMetrics) -> _RouteMetrics:
        if self._metrics is None or self._metrics[0] is not metrics:
            self._metrics = (metrics, _RouteMetrics(metrics))
        return self._metrics[1]

    async def serve(self, scope: Scope, send: Send) -> bool:
        """Answers a plain check and says so; False: the request is the app's to answer."""
        if scope["method"] != "GET" or scope["query_string"]:
            return False
        answer = self.answer(scope["path"], scope["headers"])
        if answer is None:
            return False
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
        await send({"type": "http.response.body", "body": answer.body})
        return True

    def answer(self, path: str, headers: Sequence[tuple[bytes, bytes]]) -> Answer | None:
        """The answer to a plain GET check (no query string), or None. Synchronous: uvicorn's
        protocol (tangible_runtime.http_protocol) calls it before making a task per request."""
        if not path.startswith(PREFIX):
            return None
        parts = path[len(PREFIX) :].split("/")
        if len(parts) not in ROUTES or parts[1] != "entitlements" or not parts[0]:
            return None
        container: Container | None = getattr(self._app.state, "container", None)
        runtime: ServiceRuntime = self._app.state.runtime
        view = container.view if container is not None else None
        if view is None or not view.loaded or runtime.verifier is None:
            return None
        started = time.perf_counter()
        read = plain_read(headers)
        if read is None:
            return None
        account_id = parts[0]
        feature_key = parts[2] if len(parts) == 3 else None
        try:
            principal = runtime.verifier.verify(read.token)
            principal.require("read")
            principal.require_account(account_id)
            if principal.features is not None or (principal.tenant_id, account_id) not in view.licenses:
                return None
            assert container is not None
            body, etag = render(view, principal.tenant_id, account_id, feature_key, container.clock.now())
        except (CredentialError, DomainError):
            return None  # the regular route answers with the problem details
        except Exception:  # never a bare 500 from here: the regular route reports it properly
            log.warning("fast_lane_fell_through", exc_info=True)
            return None
        not_modified = read.if_none_match is not None and not_modified_for(read.if_none_match, etag)
        metrics = self._route_metrics(runtime.metrics)
        route = ROUTES[len(parts)]
        (metrics.not_modified if not_modified else metrics.ok)[route].inc()
        metrics.latency[route].observe(time.perf_counter() - started)
        if not_modified:
            return Answer(304, [(b"etag", etag.encode()), CACHE_CONTROL])
        length = (b"content-length", b"%d" % len(body))
        return Answer(200, [(b"etag", etag.encode()), CACHE_CONTROL, CONTENT_TYPE, length], body)


class FastLaneApp(FastAPI):
    """The service's app with the fast lane in front of all that FastAPI does per request:
    its own telemetry wrapper (which excludes the check path anyway), Starlette's routing
    and the middleware stack. The class of an app built by `service_app` is swapped for
    this one rather than the app built differently, so that every service keeps one
    construction path."""

    fast_lane: FastLane

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and await self.fast_lane.serve(scope, send):
            return
        await super().__call__(scope, receive, send)

    def answer_now(self, path: str, headers: Sequence[tuple[bytes, bytes]]) -> Answer | None:
        """For uvicorn's protocol (see tangible_runtime.http_protocol): the check, before any task."""
        return self.fast_lane.answer(path, headers)


def install(app: FastAPI) -> None:
    """Put the fast lane in front of the app (see FastLaneApp)."""
    app.__class__ = FastLaneApp
    cast(FastLaneApp, app).fast_lane = FastLane(app)
