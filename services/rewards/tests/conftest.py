"""Fixtures of rewards' tests: the service in-process on real Kafka and PostgreSQL, a manual clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tangible_devstack.pytest_plugin import DatabaseFactory, IssueToken, OwnerUrl
from tangible_devstack.testing import read_topic, running, wait_ready
from tangible_rewards.bootstrap import ROLES, bootstrap
from tangible_rewards.config import Settings
from tangible_runtime.domain import ManualClock
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import AuthSettings, CorsSettings, KafkaSettings
from tangible_schemas import EventData, from_record, new_event, to_record
from tangible_schemas.registry import REWARDS
from tangible_schemas.usage import UsageRecorded

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
START = datetime(2026, 11, 26, 12, tzinfo=UTC)

Launch = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def rewards_url(database_factory: DatabaseFactory) -> str:
    return await database_factory("rewards", MIGRATIONS)


@pytest.fixture
def rewards_settings(
    rewards_url: str, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> Settings:
    return Settings(
        database_url=rewards_url,
        kafka=kafka_settings,
        auth=auth_settings,
        scheduler_interval_seconds=0.1,
        cors=CorsSettings(allowed_origins=["https://portal.example"]),
    )


@pytest.fixture
async def launch(rewards_settings: Settings, clock: ManualClock) -> AsyncIterator[Launch]:
    """`await launch(roles=..., **settings)` → a client of one more in-process replica."""
    stack = AsyncExitStack()

    async def start(roles: Collection[str] = ROLES, **overrides: Any) -> httpx.AsyncClient:
        settings = rewards_settings.model_copy(update=overrides)
        app = bootstrap(settings, roles=roles, clock=clock, configure_logs=False)
        client = await stack.enter_async_context(running(app))
        await wait_ready(client)
        return client

    async with stack:
        yield start


@pytest.fixture
async def rewards(launch: Launch) -> httpx.AsyncClient:
    return await launch()


@dataclass
class Database:
    """Direct SQL on the service's database, for assertions."""

    engine: AsyncEngine

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(text(sql), params)).scalar()

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as connection:
            return list((await connection.execute(text(sql), params)).all())

    async def execute(self, sql: str, **params: Any) -> None:
        """A write of its own, committed (as an operator's hand-run statement would be)."""
        async with self.engine.begin() as connection:
            await connection.execute(text(sql), params)


@pytest.fixture
async def db(rewards_url: str, owner_url: OwnerUrl) -> AsyncIterator[Database]:
    engine = create_async_engine(owner_url(rewards_url))  # sees every tenant's rows
    yield Database(engine)
    await engine.dispose()


@pytest.fixture
def admin(issue_token: IssueToken, tenant_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}


@dataclass
class Kafka:
    settings: KafkaSettings

    async def send(self, events: Sequence[EventData], *, ids: Sequence[str] | None = None) -> list[str]:
        """Publish events as the other services do; returns their CloudEvent ids."""
        clients = KafkaClients(self.settings)
        producer = clients.producer()
        await producer.start()
        sent: list[str] = []
        try:
            for index, data in enumerate(events):
                event = new_event(data, source="tests", event_id=ids[index] if ids else None)
                record = to_record(event)
                await producer.send(
                    clients.topic(record.topic), value=record.value, key=record.key, headers=record.headers
                )
                sent.append(event.id)
            await producer.flush()
        finally:
            await producer.stop()
        return sent

    async def rewards_events(self, event_type: str | None = None) -> list[EventData]:
        """Everything on rewards.v1 so far (optionally of one type)."""
        records = await read_topic(KafkaClients(self.settings), REWARDS.name)
        events = [from_record(list(r.headers), r.value).data for r in records]
        return [e for e in events if event_type is None or e.event_type == event_type]


@pytest.fixture
def kafka(kafka_settings: KafkaSettings) -> Kafka:
    return Kafka(kafka_settings)


MakeUsage = Callable[..., UsageRecorded]


@pytest.fixture
def make_usage(tenant_id: str) -> MakeUsage:
    """`make_usage(account, at=START, usage_type=..., quantity=..., user_id=...)` for this test's tenant."""

    def make(
        account_id: str,
        at: datetime = START,
        *,
        usage_type: str = "report.generated",
        quantity: float = 1,
        user_id: str | None = None,
    ) -> UsageRecorded:
        return UsageRecorded(
            tenant_id=tenant_id,
            account_id=account_id,
            event_id=str(uuid.uuid4()),
            event_source="app://tests",
            usage_type=usage_type,
            occurred_at=at,
            quantity=quantity,
            user_id=user_id,
        )

    return make
