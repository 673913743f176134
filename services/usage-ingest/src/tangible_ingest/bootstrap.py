"""Composition root of usage-ingest: settings, runtime, adapters, routes, workers."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from tangible_ingest.adapters.publisher import UsagePublisher
from tangible_ingest.config import Settings, get_settings
from tangible_ingest.entrypoints import api
from tangible_ingest.entrypoints.dependencies import Container
from tangible_ingest.entrypoints.scheduler import dedup_pruner
from tangible_runtime.app import create_app
from tangible_runtime.credentials import revocation_follower
from tangible_runtime.domain import Clock, SystemClock
from tangible_runtime.service import ServiceRuntime

ROLES = ("api", "scheduler")
DESCRIPTION = (
    "Accepts usage as CloudEvents over HTTP and puts each event durably on Kafka exactly "
    "once: deduplicated on (tenant, source, id), 202 only after Kafka acknowledged."
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
        "usage-ingest", settings, clock or SystemClock(), span_processors, configure_logs
    )

    async def start(rt: ServiceRuntime) -> None:
        await rt.clients.ensure_topics()
        app.state.container = Container(
            settings=settings,
            clock=rt.clock,
            metrics=rt.metrics,
            publisher=UsagePublisher(
                rt.producer, rt.clients, rt.metrics, settings.kafka.publish_timeout_seconds
            ),
            session_factory=rt.session_factory,
        )
        if "api" in roles:
            rt.start_worker(revocation_follower(rt))
        if "scheduler" in roles:
            rt.start_worker(dedup_pruner(rt, app.state.container, every=timedelta(hours=1)))

    app = create_app(
        runtime,
        title="Tangible usage-ingest",
        description=DESCRIPTION,
        routers=[api.router] if "api" in roles else [],
        on_startup=[start],
    )
    return app
