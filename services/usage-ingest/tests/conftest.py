"""Fixtures of usage-ingest's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tangible_devstack.pytest_plugin import DatabaseFactory
from tangible_devstack.testing import running, wait_ready
from tangible_ingest.bootstrap import bootstrap
from tangible_ingest.config import Settings
from tangible_runtime.settings import AuthSettings, KafkaSettings

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@pytest.fixture
async def ingest_settings(
    database_factory: DatabaseFactory, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> Settings:
    url = await database_factory("usage-ingest", MIGRATIONS)
    return Settings(database_url=url, kafka=kafka_settings, auth=auth_settings)


@pytest.fixture
async def ingest(ingest_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(bootstrap(ingest_settings, configure_logs=False)) as client:
        await wait_ready(client)
        yield client
