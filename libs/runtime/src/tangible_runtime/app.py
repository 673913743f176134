"""App factory: lifespan, health, readiness, metrics, problems, credentials.

Every role of every service is this app: the API role adds its routers; consumer,
relay and scheduler roles serve only /healthz, /readyz and /metrics for their probes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from tangible_runtime.audit import MUTATING, Actor, bind_actor
from tangible_runtime.auth import Principal, Scope, Unauthenticated
from tangible_runtime.logs import get_logger
from tangible_runtime.metrics import HttpMetricsMiddleware
from tangible_runtime.problems import install_problem_handlers
from tangible_runtime.queries import one_value_per_query_parameter
from tangible_runtime.service import ServiceRuntime
from tangible_runtime.starting import StartingGate
from tangible_runtime.tenancy import TenantScopeMiddleware, bind_tenant

Hook = Callable[[ServiceRuntime], Awaitable[None]]

log = get_logger(__name__)


def create_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    untraced_urls: Sequence[str] = (),
    schemas: Sequence[type[BaseModel]] = (),
) -> FastAPI:
    """`untraced_urls`: regexes of hot read paths whose per-request spans would cost more
    than the request itself (they still count in the HTTP metrics). `schemas`: models that
    routes reference by hand (`#/components/schemas/<Model>` in `openapi_extra`), for a
    body a route reads itself; they join the OpenAPI document's components."""

    async def start() -> None:
        await runtime.start()
        for hook in on_startup:
            await hook(runtime)
        runtime.startup_detail = None

    async def start_in_background() -> None:
        """The port is bound meanwhile: probes see a live process waiting for Kafka, not a
        refused connection, and the startup budget is the process's own (see settings)."""
        try:
            await start()
        except Exception as error:
            runtime.startup_error = error
            runtime.startup_detail = f"startup failed: {type(error).__name__}"
            log.error("startup_failed", exc_info=error)
            if runtime.on_startup_failure is not None:
                runtime.on_startup_failure()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not runtime.bind_before_ready:
            await start()
            try:
                yield
            finally:
                for hook in reversed(on_shutdown):
                    await hook(runtime)
                await runtime.stop()
            return
        startup = asyncio.create_task(start_in_background(), name="startup")
        try:
            yield
        finally:
            if not startup.done():
                startup.cancel()
            await asyncio.gather(startup, return_exceptions=True)
            if runtime.startup_detail is None:  # the shutdown hooks undo a completed startup
                for hook in reversed(on_shutdown):
                    await hook(runtime)
            await runtime.stop()

    untraced = ["healthz", "readyz", "metrics", *untraced_urls]
    patterns = [re.compile(pattern) for pattern in untraced]

    def excluded(scope: MutableMapping[str, Any]) -> bool:
        return any(p.search(scope.get("path", "")) for p in patterns)

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        telemetry={"exclude": excluded},  # FastAPI's own spans skip what the instrumentor skips
        dependencies=[Depends(one_value_per_query_parameter)],
        generate_unique_id_function=operation_id(runtime.name),
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.include_router(_operations_router(runtime))
    for router in routers:
        app.include_router(router)
    app.add_middleware(TenantScopeMiddleware)
    app.add_middleware(StartingGate, runtime=runtime)
    app.add_middleware(HttpMetricsMiddleware, metrics=runtime.metrics)
    cors = runtime.settings.cors
    if cors.allowed_origins:  # outermost: a preflight is answered before anything else runs
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors.allowed_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Cache-Control",  # the components' live stream asks for no-cache
                "Content-Type",
                "Idempotency-Key",
                "If-None-Match",
                "Last-Event-ID",
            ],
            expose_headers=[
                "ETag",
                "Location",
                "Retry-After",
                "RateLimit",
                "RateLimit-Policy",
                "Idempotent-Replayed",
            ],
            allow_credentials=False,
            max_age=cors.max_age_seconds,
        )
    FastAPIInstrumentor.instrument_app(app, excluded_urls=",".join(untraced))
    if schemas:
        _document_schemas(app, schemas)
    return app


def operation_id(service: str) -> Callable[[APIRoute], str]:
    """`<tag>.<handler>` (e.g. `checks.check_entitlement`), the service's name where a route has
    no tag: generated clients get readable method names that survive a path change, where
    FastAPI's default (`check_entitlement_v1_accounts__account_id__…_get`) changes with it."""

    def generate(route: APIRoute) -> str:
        group = str(route.tags[0]) if route.tags else service
        return f"{re.sub(r'[^A-Za-z0-9]+', '-', group).strip('-')}.{route.name}"

    return generate


def _document_schemas(app: FastAPI, models: Sequence[type[BaseModel]]) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components.setdefault(model.__name__, schema)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _operations_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process and its workers are running")
    async def healthz() -> JSONResponse:
        if runtime.startup_error is not None:
            return JSONResponse({"status": "unhealthy", "detail": runtime.startup_detail}, status_code=503)
        crashed = runtime.unhealthy_workers()
        if crashed:
            return JSONResponse({"status": "unhealthy", "stopped_workers": crashed}, status_code=503)
        return JSONResponse({"status": "ok"})

    @router.get("/readyz", summary="Readiness: database, Kafka and service-specific checks")
    async def readyz() -> JSONResponse:
        if runtime.startup_detail is not None:  # e.g. "waiting for Kafka"
            return JSONResponse(
                {"status": "starting", "detail": runtime.startup_detail, "checks": {}}, status_code=503
            )
        results: dict[str, str] = {}
        for name, check in runtime.readiness_checks.items():
            try:
                await asyncio.wait_for(check(), timeout=2.0)
                results[name] = "ok"
            except Exception as error:  # a probe reports, it never raises
                results[name] = f"failed: {type(error).__name__}"
        ready = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": results},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def authenticate(request: Request) -> Principal:
    verifier = _runtime(request).verifier
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("a bearer token is required")
    if verifier is None:
        raise Unauthenticated("this service has no credential verifier configured")
    return verifier.verify(token.strip())


# Documents the bearer scheme, and each operation's scope, in the OpenAPI document; the
# header is read (and refused) by `authenticate`, so that every refusal is a problem.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="A tenant-scoped credential (`tangible-credentials issue`); the scopes listed "
    "on an operation are the ones it requires (admin also grants read).",
)


async def _authenticated(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """`authenticate` as an async dependency: it never blocks, and a sync dependency would
    cost a thread-pool round trip on every request. The rest of the request runs as the
    principal's tenant (row-level security, see `tangible_runtime.tenancy`)."""
    principal = authenticate(request)
    bind_tenant(principal.tenant_id)
    if request.method in MUTATING and "admin" in principal.scopes:
        bind_actor(
            Actor(
                credential_id=principal.credential_id,
                name=principal.name,
                method=request.method,
                route=_route_template(request),
                at=_runtime(request).clock.now(),
            )
        )
    return principal


def _route_template(request: Request) -> str:
    """The request's path as its OpenAPI document names it (`/v1/plans/{key}`): what the
    audit log records and filters on. Matched against the document's paths (built once per
    app), since included routers do not all put their full template in the scope."""
    templates: list[tuple[re.Pattern[str], str]] | None = getattr(request.app.state, "route_templates", None)
    if templates is None:
        templates = [
            (re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"), path)
            # literal segments win over parameters (`/templates/preview`)
            for path in sorted(request.app.openapi().get("paths", {}), key=lambda p: p.count("{"))
        ]
        request.app.state.route_templates = templates
    path = request.url.path
    return next((template for pattern, template in templates if pattern.match(path)), path)


def requires(scope: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: Principal) -> Principal:
        principal.require(scope)
        return principal

    # set as objects: a string annotation could not name this call's `scope`
    check.__annotations__ = {
        "principal": Annotated[Principal, Security(_authenticated, scopes=[scope])],
        "return": Principal,
    }
    return check


AuthenticatedDep = Annotated[Principal, Depends(_authenticated)]
IngestPrincipal = Annotated[Principal, Depends(requires("ingest"))]
ReadPrincipal = Annotated[Principal, Depends(requires("read"))]
AdminPrincipal = Annotated[Principal, Depends(requires("admin"))]
PortalPrincipal = Annotated[
    Principal, Depends(requires("portal"))
]  # admin, or a key that mints portal tokens
RuntimeDep = Annotated[ServiceRuntime, Depends(_runtime)]
