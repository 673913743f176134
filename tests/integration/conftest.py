"""The whole system in one process: four services on real Kafka and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import SpanProcessor

from tangible_devstack.pytest_plugin import DatabaseFactory
from tangible_devstack.scenario import Clients
from tangible_devstack.testing import running, wait_ready
from tangible_runtime.settings import AuthSettings, KafkaSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def start_system(
    database_factory: DatabaseFactory, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> AsyncIterator[Callable[..., object]]:
    """`await start_system(entitlements_roles=...)` → Clients; stopped after the test."""
    from tangible_entitlements import bootstrap as entitlements
    from tangible_entitlements.config import Settings as EntitlementsSettings
    from tangible_ingest import bootstrap as ingest
    from tangible_ingest.config import Settings as IngestSettings
    from tangible_notifications import bootstrap as notifications
    from tangible_notifications.config import Settings as NotificationsSettings
    from tangible_rewards import bootstrap as rewards
    from tangible_rewards.config import Settings as RewardsSettings

    stack = AsyncExitStack()

    async def start(
        *,
        entitlements_roles: Collection[str] = entitlements.ROLES,
        span_processors: Sequence[SpanProcessor] = (),
    ) -> Clients:
        clients = []
        for name, module, settings_class, roles in (
            ("usage-ingest", ingest, IngestSettings, ingest.ROLES),
            ("entitlements", entitlements, EntitlementsSettings, entitlements_roles),
            ("rewards", rewards, RewardsSettings, rewards.ROLES),
            ("notifications", notifications, NotificationsSettings, notifications.ROLES),
        ):
            url = await database_factory(name, ROOT / "services" / name / "migrations")
            settings = settings_class(database_url=url, kafka=kafka_settings, auth=auth_settings)
            app = module.bootstrap(
                settings, roles=roles, configure_logs=False, span_processors=span_processors
            )
            client = await stack.enter_async_context(running(app))
            clients.append(client)
        for client in clients:
            await wait_ready(client)
        return Clients(*clients)

    async with stack:
        yield start
