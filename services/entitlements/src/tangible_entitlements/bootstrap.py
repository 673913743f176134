"""Composition root of entitlements: settings, runtime, adapters, routes, workers."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Unpack

from fastapi import FastAPI

from tangible_entitlements.config import Settings, get_settings
from tangible_entitlements.entrypoints import api, fast_lane
from tangible_entitlements.entrypoints.consumers import (
    REWARDS_CONSUMER,
    USAGE_CONSUMER,
    rewards_consumer,
    usage_consumer,
)
from tangible_entitlements.entrypoints.dependencies import Container
from tangible_entitlements.entrypoints.follower import view_follower
from tangible_entitlements.entrypoints.scheduler import scheduler
from tangible_entitlements.service_layer.change_hub import ChangeHub
from tangible_entitlements.service_layer.cohorts import CohortDistributions
from tangible_entitlements.service_layer.live_view import LiveView
from tangible_runtime.auth import TokenIssuer
from tangible_runtime.composition import AppOptions, ServiceDeclaration, relay_role, service_app
from tangible_runtime.inbox import inbox_pruner
from tangible_runtime.service import ServiceRuntime, Worker

ROLES = ("api", "consumer", "relay", "scheduler")
DESCRIPTION = (
    "What each account may use and how much is left, explained by its sources: a versioned "
    "catalog with benefit mappings, licenses, seats, exactly-once metering and the check API."
)


def _container(settings: Settings, rt: ServiceRuntime) -> Container:
    return Container(
        settings=settings,
        clock=rt.clock,
        session_factory=rt.session_factory,
        issuer=_issuer(settings),
        cohorts=CohortDistributions(
            timedelta(seconds=settings.cohort_cache_seconds), min_members=settings.cohort_cache_min_members
        ),
    )


def _issuer(settings: Settings) -> TokenIssuer | None:
    """Entitlements issues the tenant's credentials over HTTP when it holds the signing key."""
    key = settings.auth.private_key
    return TokenIssuer(key.get_secret_value(), issuer=settings.auth.issuer) if key is not None else None


def _api_workers(rt: ServiceRuntime, container: Container) -> list[Worker]:
    container.view = LiveView()
    container.changes = ChangeHub()
    return [view_follower(rt, container, container.view)]


SERVICE: ServiceDeclaration[Settings, Container] = ServiceDeclaration(
    name="entitlements",
    description=DESCRIPTION,
    router=api.router,
    container=_container,
    roles={
        "relay": relay_role,
        "api": _api_workers,
        "consumer": lambda rt, container: [usage_consumer(rt, container), rewards_consumer(rt, container)],
        "scheduler": lambda rt, container: [scheduler(rt, container), inbox_pruner(rt)],
    },
    untraced_urls=api.UNTRACED,
    # checks answer from the in-memory view: ready once it is built and caught up (and the
    # credential revocations loaded), through a database or broker blip
    readiness={"api": frozenset()},
    dead_letter_consumers=(USAGE_CONSUMER, REWARDS_CONSUMER),
)


def bootstrap(
    settings: Settings | None = None,
    *,
    roles: Collection[str] = ROLES,
    **options: Unpack[AppOptions],
) -> FastAPI:
    app = service_app(SERVICE, settings or get_settings(), roles=roles, **options)
    if "api" in roles:
        fast_lane.install(app)
    return app
