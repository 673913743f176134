"""App factory: lifespan, health, readiness, metrics, problems, credentials.

Every role of every service is this app: the API role adds its routers; consumer,
relay and scheduler roles serve only /healthz, /readyz and /metrics for their probes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tangible_runtime.auth import Principal, Scope, Unauthenticated
from tangible_runtime.metrics import HttpMetricsMiddleware
from tangible_runtime.problems import install_problem_handlers
from tangible_runtime.service import ServiceRuntime

Hook = Callable[[ServiceRuntime], Awaitable[None]]


def create_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            for hook in on_startup:
                await hook(runtime)
            yield
        finally:
            for hook in reversed(on_shutdown):
                await hook(runtime)
            await runtime.stop()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.include_router(_operations_router(runtime))
    for router in routers:
        app.include_router(router)
    app.add_middleware(HttpMetricsMiddleware, metrics=runtime.metrics)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")
    return app


def _operations_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process and its workers are running")
    async def healthz() -> JSONResponse:
        crashed = runtime.unhealthy_workers()
        if crashed:
            return JSONResponse({"status": "unhealthy", "stopped_workers": crashed}, status_code=503)
        return JSONResponse({"status": "ok"})

    @router.get("/readyz", summary="Readiness: database, Kafka and service-specific checks")
    async def readyz() -> JSONResponse:
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


def requires(scope: Scope) -> Callable[[Principal], Principal]:
    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        principal.require(scope)
        return principal

    return check


# The aliases use async twins of the two functions above: FastAPI runs a plain `def`
# dependency in its thread pool, and that hop costs more than the (cached) token check.
async def _authenticated(request: Request) -> Principal:
    return authenticate(request)


def _requires(scope: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: Annotated[Principal, Depends(_authenticated)]) -> Principal:
        principal.require(scope)
        return principal

    return check


AuthenticatedDep = Annotated[Principal, Depends(_authenticated)]
IngestPrincipal = Annotated[Principal, Depends(_requires("ingest"))]
ReadPrincipal = Annotated[Principal, Depends(_requires("read"))]
AdminPrincipal = Annotated[Principal, Depends(_requires("admin"))]
RuntimeDep = Annotated[ServiceRuntime, Depends(_runtime)]
