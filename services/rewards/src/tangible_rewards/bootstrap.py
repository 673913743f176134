"""Composition root of rewards: settings, runtime, adapters, routes, workers."""

from __future__ import annotations

from collections.abc import Collection
from typing import Unpack

from fastapi import FastAPI

from tangible_rewards.config import Settings, get_settings
from tangible_rewards.entrypoints import api, fast_lane
from tangible_rewards.entrypoints.consumers import (
    ENTITLEMENTS_CONSUMER,
    USAGE_CONSUMER,
    entitlements_consumer,
    usage_consumer,
)
from tangible_rewards.entrypoints.dependencies import Container, policy_from, view_from
from tangible_rewards.entrypoints.follower import view_follower
from tangible_rewards.entrypoints.progress_listener import progress_listener
from tangible_rewards.entrypoints.scheduler import scheduler_worker
from tangible_runtime.composition import AppOptions, ServiceDeclaration, relay_role, service_app
from tangible_runtime.inbox import inbox_pruner
from tangible_runtime.service import ServiceRuntime, Worker

ROLES = ("api", "consumer", "relay", "scheduler")
DESCRIPTION = (
    "Milestones over usage and license events (thresholds, streaks, adoption, anniversaries, "
    "time-to-value) and the rewards they grant, exactly once per qualifying period, with a "
    "double-entry credit ledger and customer-facing balances, history and progress."
)


def _container(settings: Settings, rt: ServiceRuntime) -> Container:
    return Container(
        settings=settings, clock=rt.clock, session_factory=rt.session_factory, policy=policy_from(settings)
    )


def _api_workers(rt: ServiceRuntime, container: Container) -> list[Worker]:
    container.view = view_from(container.settings)
    return [view_follower(rt, container.view), progress_listener(rt, container.view)]


SERVICE: ServiceDeclaration[Settings, Container] = ServiceDeclaration(
    name="rewards",
    description=DESCRIPTION,
    router=api.router,
    container=_container,
    roles={
        "relay": relay_role,
        "api": _api_workers,
        "consumer": lambda rt, container: [
            usage_consumer(rt, container),
            entitlements_consumer(rt, container),
        ],
        "scheduler": lambda rt, container: [scheduler_worker(container), inbox_pruner(rt)],
    },
    dead_letter_consumers=(USAGE_CONSUMER, ENTITLEMENTS_CONSUMER),
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
