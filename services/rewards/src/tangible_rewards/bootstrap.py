"""Composition root of rewards: settings, runtime, adapters, routes, workers."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor

from tangible_rewards.config import Settings, get_settings
from tangible_rewards.entrypoints import api
from tangible_rewards.entrypoints.consumers import entitlements_consumer, usage_consumer
from tangible_rewards.entrypoints.dependencies import Container, policy_from
from tangible_rewards.entrypoints.scheduler import scheduler_worker
from tangible_runtime.app import create_app
from tangible_runtime.credentials import revocation_follower
from tangible_runtime.domain import Clock, SystemClock
from tangible_runtime.relay import relay_worker
from tangible_runtime.service import ServiceRuntime

ROLES = ("api", "consumer", "relay", "scheduler")
DESCRIPTION = (
    "Milestones over usage and license events (thresholds, streaks, adoption, anniversaries, "
    "time-to-value) and the rewards they grant, exactly once per qualifying period, with a "
    "double-entry credit ledger and customer-facing balances, history and progress."
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
    runtime = ServiceRuntime("rewards", settings, clock or SystemClock(), span_processors, configure_logs)

    async def start(rt: ServiceRuntime) -> None:
        await rt.clients.ensure_topics()
        container = Container(
            settings=settings,
            clock=rt.clock,
            session_factory=rt.session_factory,
            policy=policy_from(settings),
        )
        app.state.container = container
        if "relay" in roles:
            relay = relay_worker(rt)
            container.on_commit = relay.wake
            rt.start_worker(relay.worker)
        if "api" in roles:
            rt.start_worker(revocation_follower(rt))
        if "consumer" in roles:
            rt.start_worker(usage_consumer(rt, container))
            rt.start_worker(entitlements_consumer(rt, container))
        if "scheduler" in roles:
            rt.start_worker(scheduler_worker(container))

    app = create_app(
        runtime,
        title="Tangible rewards",
        description=DESCRIPTION,
        routers=[api.router] if "api" in roles else [],
        on_startup=[start],
    )
    return app
