"""Composition root of entitlements: settings, runtime, adapters, routes, workers."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from tangible_entitlements.config import Settings, get_settings
from tangible_entitlements.entrypoints import api, fast_lane
from tangible_entitlements.entrypoints.consumers import rewards_consumer, usage_consumer
from tangible_entitlements.entrypoints.dependencies import Container
from tangible_entitlements.entrypoints.follower import view_follower
from tangible_entitlements.entrypoints.scheduler import scheduler
from tangible_entitlements.service_layer.live_view import LiveView
from tangible_runtime.app import create_app
from tangible_runtime.auth import TokenIssuer
from tangible_runtime.credentials import revocation_follower
from tangible_runtime.domain import Clock, SystemClock
from tangible_runtime.relay import relay_worker
from tangible_runtime.service import ServiceRuntime

ROLES = ("api", "consumer", "relay", "scheduler")
DESCRIPTION = (
    "What each account may use and how much is left, explained by its sources: a versioned "
    "catalog with benefit mappings, licenses, seats, exactly-once metering and the check API."
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
        "entitlements", settings, clock or SystemClock(), span_processors, configure_logs
    )

    async def start(rt: ServiceRuntime) -> None:
        await rt.clients.ensure_topics()
        container = Container(
            settings=settings, clock=rt.clock, session_factory=rt.session_factory, issuer=_issuer(settings)
        )
        app.state.container = container
        if "relay" in roles:
            relay = relay_worker(rt)
            container.on_commit = relay.wake
            rt.start_worker(relay.worker)
        if "api" in roles:
            rt.start_worker(revocation_follower(rt))
            container.view = LiveView()
            rt.start_worker(view_follower(rt, container, container.view))
        if "consumer" in roles:
            rt.start_worker(usage_consumer(rt, container))
            rt.start_worker(rewards_consumer(rt, container))
        if "scheduler" in roles:
            rt.start_worker(scheduler(rt, container))

    app = create_app(
        runtime,
        title="Tangible entitlements",
        description=DESCRIPTION,
        routers=[api.router] if "api" in roles else [],
        on_startup=[start],
        untraced_urls=api.UNTRACED,
    )
    if "api" in roles:
        fast_lane.install(app)
    return app


def _issuer(settings: Settings) -> TokenIssuer | None:
    """Entitlements issues the tenant's credentials over HTTP when it holds the signing key."""
    key = settings.auth.private_key
    return TokenIssuer(key.get_secret_value(), issuer=settings.auth.issuer) if key is not None else None
