"""One composition shape for every service: its runtime, its container, and the workers of
each role, declared once; `service_app` builds the app of the roles a process runs.

Every service's `bootstrap` is this plus what is its own (middleware, extra hooks).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypedDict, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request
from opentelemetry.sdk.trace import SpanProcessor
from pydantic import BaseModel

from tangible_runtime.app import Hook, create_app
from tangible_runtime.audit_api import audit_router
from tangible_runtime.credentials import revocation_follower
from tangible_runtime.dead_letters_api import dead_letters_router
from tangible_runtime.domain import Clock, SystemClock
from tangible_runtime.relay import relay_worker
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_runtime.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)
C = TypeVar("C")

# the workers one role runs, given the started runtime and the service's container
RoleWorkers = Callable[[ServiceRuntime, C], Iterable[Worker]]


class CommitHinted(Protocol):
    """A container whose units of work call `on_commit` after each commit."""

    on_commit: Callable[[], None] | None


def relay_role(runtime: ServiceRuntime, container: CommitHinted) -> list[Worker]:
    """The `relay` role: the outbox relay, woken by the commits of this process's units of
    work (other processes' rows are found by polling)."""
    relay = relay_worker(runtime)
    container.on_commit = relay.wake
    return [relay.worker]


class AppOptions(TypedDict, total=False):
    """How a process or a test runs a service (`service_app`'s keyword arguments of the
    same names): its clock, span exporters, log setup. Services' `bootstrap` take them as
    `**options: Unpack[AppOptions]` and pass them on."""

    clock: Clock | None
    span_processors: Sequence[SpanProcessor]
    configure_logs: bool


@dataclass(frozen=True)
class ServiceDeclaration(Generic[S, C]):
    """What makes a service: `container(settings, runtime)` builds what routes and workers
    share once the runtime has started; `roles` are the workers of each role, started in
    this order. The `api` role always adds `router` and the credential revocation follower.
    The app's title is "Tangible <name>"."""

    name: str
    description: str
    router: APIRouter
    container: Callable[[S, ServiceRuntime], C]
    roles: Mapping[str, RoleWorkers[C]]
    untraced_urls: Sequence[str] = ()
    # models routes reference by hand (a body a route reads itself), for the OpenAPI document
    schemas: Sequence[type[BaseModel]] = ()
    # the infrastructure a role needs to be ready (default: database and kafka); a role that
    # answers from memory names less, and its own readiness checks say when it is ready
    readiness: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # the names of this service's consumers, whose dead-letter topics its admin routes serve
    dead_letter_consumers: Sequence[str] = ()


INFRASTRUCTURE = frozenset({"database", "kafka"})


def readiness_needs(declaration: ServiceDeclaration[Any, Any], roles: Collection[str]) -> frozenset[str]:
    """The union over the process's roles: `all` in one process needs what any role needs."""
    needs: frozenset[str] = frozenset()
    for role in roles:
        needs |= declaration.readiness.get(role, INFRASTRUCTURE)
    return needs


def service_app(
    declaration: ServiceDeclaration[S, C],
    settings: S,
    *,
    roles: Collection[str],
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    clock: Clock | None = None,
    span_processors: Sequence[SpanProcessor] = (),
    configure_logs: bool = True,
) -> FastAPI:
    """The app of `roles`; the container is `app.state.container` once started. The
    `on_startup` hooks run after the workers have started."""
    runtime = ServiceRuntime(
        declaration.name,
        settings,
        clock or SystemClock(),
        span_processors,
        configure_logs,
        readiness_needs=readiness_needs(declaration, roles),
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )

    async def start(rt: ServiceRuntime) -> None:
        await rt.clients.ensure_topics()
        container = declaration.container(settings, rt)
        app.state.container = container
        if "api" in roles:
            rt.start_worker(revocation_follower(rt))
        for role, workers in declaration.roles.items():
            if role in roles:
                for worker in workers(rt, container):
                    rt.start_worker(worker)

    app = create_app(
        runtime,
        title=f"Tangible {declaration.name}",
        description=declaration.description,
        # every service serves its tenant's audit log (see tangible_runtime.audit)
        routers=_api_routers(declaration) if "api" in roles else [],
        on_startup=[start, *on_startup],
        on_shutdown=on_shutdown,
        untraced_urls=declaration.untraced_urls,
        schemas=declaration.schemas,
    )
    return app


def _api_routers(declaration: ServiceDeclaration[Any, Any]) -> list[APIRouter]:
    routers = [declaration.router, audit_router()]
    if declaration.dead_letter_consumers:
        routers.append(dead_letters_router(declaration.dead_letter_consumers))
    return routers


def container_dependency(kind: type[C]) -> Any:
    """`Depends` on the app's container, typed as `kind`: `Annotated[Container,
    container_dependency(Container)]`. Async: a sync dependency would cost a thread-pool
    round trip on every request."""

    async def container(request: Request) -> C:
        found: C = request.app.state.container
        return found

    return Depends(container)
