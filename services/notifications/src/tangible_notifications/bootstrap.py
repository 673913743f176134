"""Composition root of notifications: settings, runtime, adapters, routes, workers."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from tangible_notifications.config import Settings, get_settings
from tangible_notifications.entrypoints import api
from tangible_notifications.entrypoints.consumers import events_consumer
from tangible_notifications.entrypoints.dependencies import Container
from tangible_runtime.app import create_app
from tangible_runtime.credentials import revocation_follower
from tangible_runtime.domain import Clock, SystemClock
from tangible_runtime.relay import relay_worker
from tangible_runtime.service import ServiceRuntime

ROLES = ("api", "consumer", "relay", "scheduler")
DESCRIPTION = (
    "Turns entitlement and reward events into personalised messages: tenant rules and "
    "templates, signed webhooks, email and an in-app inbox, one notification per event, rule, "
    "recipient and channel."
)


def bootstrap(
    settings: Settings | None = None,
    *,
    roles: Collection[str] = ROLES,
    clock: Clock | None = None,
    span_processors: Sequence[SpanProcessor] = (),
    configure_logs: bool = True,
) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime(
        "notifications", settings, clock or SystemClock(), span_processors, configure_logs
    )

    async def start(rt: ServiceRuntime) -> None:
        await rt.clients.ensure_topics()
        container = Container(settings=settings, clock=rt.clock, session_factory=rt.session_factory)
        app.state.container = container
        if "relay" in roles:
            relay = relay_worker(rt)
            container.on_commit = relay.wake
            rt.start_worker(relay.worker)
        if "api" in roles:
            rt.start_worker(revocation_follower(rt))
        if "consumer" in roles:
            rt.start_worker(events_consumer(rt, container))

    app = create_app(
        runtime,
        title="Tangible notifications",
        description=DESCRIPTION,
        routers=[api.router] if "api" in roles else [],
        on_startup=[start],
    )
    return app
