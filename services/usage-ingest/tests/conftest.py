"""Fixtures of usage-ingest's tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from tangible_devstack.pytest_plugin import DatabaseFactory, IssueToken
from tangible_devstack.testing import read_topic, running, wait_ready
from tangible_ingest.bootstrap import bootstrap
from tangible_ingest.config import Settings
from tangible_runtime.domain import Clock, ManualClock
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import AuthSettings, KafkaSettings
from tangible_schemas.registry import USAGE

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"

StartIngest = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


class ReadUsage(Protocol):
    def __call__(self, settings: KafkaSettings | None = None) -> Awaitable[list[Any]]: ...


@pytest.fixture
async def ingest_settings(
    database_factory: DatabaseFactory, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> Settings:
    url = await database_factory("usage-ingest", MIGRATIONS)
    return Settings(database_url=url, kafka=kafka_settings, auth=auth_settings)


@pytest.fixture
def start_ingest(ingest_settings: Settings) -> StartIngest:
    """`async with start_ingest(clock=..., **setting_overrides) as client:` a running service."""

    @asynccontextmanager
    async def start(clock: Clock | None = None, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = ingest_settings.model_copy(update=overrides)
        async with running(bootstrap(settings, clock=clock, configure_logs=False)) as client:
            await wait_ready(client)
            yield client

    return start


@pytest.fixture
async def ingest(start_ingest: StartIngest) -> AsyncIterator[httpx.AsyncClient]:
    async with start_ingest() as client:
        yield client


@pytest.fixture
def clock() -> ManualClock:
    # now, not a fixed day: the events these tests send are dated relative to now too
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def ingest_headers(issue_token: IssueToken, tenant_id: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {issue_token(tenant_id, 'ingest')}",
        "Content-Type": "application/cloudevents-batch+json",
    }


@pytest.fixture
def event() -> Callable[..., dict[str, Any]]:
    """`event(**overrides)`: a valid CloudEvent with a fresh id."""

    def make(**overrides: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "app://reports",
            "type": "report.generated",
            "subject": "acct-1",
            "time": (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds"),
            "data": {"quantity": 2, "user_id": "u-1", "format": "pdf"},
        }
        base.update(overrides)
        return base

    return make


@pytest.fixture
def read_usage(kafka_settings: KafkaSettings) -> ReadUsage:
    """Every record on the usage topic right now (read up to the end offsets)."""

    async def read(settings: KafkaSettings | None = None) -> list[Any]:
        return await read_topic(KafkaClients(settings or kafka_settings), USAGE.name)

    return read
