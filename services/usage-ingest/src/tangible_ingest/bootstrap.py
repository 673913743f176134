"""Composition root of usage-ingest: settings, runtime, adapters, routes, workers."""

from __future__ import annotations

import gc
from collections.abc import Collection
from datetime import timedelta
from typing import Unpack

from fastapi import FastAPI

from tangible_ingest.adapters.metrics import IngestMetrics
from tangible_ingest.adapters.publisher import UsagePublisher
from tangible_ingest.config import Settings, get_settings
from tangible_ingest.entrypoints import api
from tangible_ingest.entrypoints.admission import Admission
from tangible_ingest.entrypoints.dependencies import Container
from tangible_ingest.entrypoints.scheduler import dedup_pruner
from tangible_ingest.entrypoints.translate import EventLimits
from tangible_runtime.cli import roles_from_environment, served_by_a_worker
from tangible_runtime.composition import AppOptions, ServiceDeclaration, service_app
from tangible_runtime.ratelimit import TokenBucketLimiter
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
    serving_process: bool = False,
    **options: Unpack[AppOptions],
) -> FastAPI:
    """The app of the given roles. `serving_process`: this process only serves the app
    (not a test), so the garbage collector may be tuned for it (see `tune_gc`)."""

    def build_container(settings: Settings, rt: ServiceRuntime) -> Container:
        admission = Admission(settings.events_in_flight_bound, settings.shed_retry_after_seconds)
        ingest_metrics.events_in_flight.set_function(lambda: admission.events)
        return Container(
            settings=settings,
            clock=rt.clock,
            metrics=rt.metrics,
            ingest_metrics=ingest_metrics,
            publisher=UsagePublisher(
                rt.producer,
                rt.clients,
                rt.metrics,
                settings.kafka.publish_timeout_seconds,
                max_backlog=settings.max_unacknowledged_events,
            ),
            session_factory=rt.session_factory,
            limiter=TokenBucketLimiter(
                settings.rate_limit_events_per_second, policy="ingest-events", clock=rt.clock
            ),
            event_limits=EventLimits(
                max_event_bytes=settings.max_event_bytes,
                max_future=timedelta(minutes=settings.max_clock_skew_minutes),
            ),
            admission=admission,
        )

    async def tune_gc_once_started(rt: ServiceRuntime) -> None:
        tune_gc()

    service: ServiceDeclaration[Settings, Container] = ServiceDeclaration(
        name="usage-ingest",
        description=DESCRIPTION,
        router=api.router,
        container=build_container,
        roles={"scheduler": lambda rt, container: [dedup_pruner(rt, container, every=timedelta(hours=1))]},
        schemas=api.REFERENCED_SCHEMAS,
    )
    app = service_app(
        service,
        settings or get_settings(),
        roles=roles,
        on_startup=[tune_gc_once_started] if serving_process else [],
        **options,
    )
    # once per app, not per start: its collectors register on the runtime's registry
    ingest_metrics = IngestMetrics(app.state.runtime.metrics)
    return app


def tune_gc() -> None:
    """A request allocates a dozen objects per event: with the default young-generation
    threshold (700) the collector runs several times per request, and each full collection
    walks every object of the process. Objects alive once started (modules, app, models)
    are frozen out of collections; the threshold is raised."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def app_from_environment() -> FastAPI:
    """One worker's app when the API runs in several processes (`USAGE_INGEST_WORKERS`)."""
    app = bootstrap(get_settings(), roles=roles_from_environment(ROLES), serving_process=True)
    return served_by_a_worker(app)
