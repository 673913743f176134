"""The simulator against the real usage-ingest (in process, real Kafka and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from tangible_devstack.processes import free_port
from tangible_devstack.pytest_plugin import DatabaseFactory, IssueToken
from tangible_devstack.testing import running, wait_ready
from tangible_ingest.bootstrap import bootstrap
from tangible_ingest.config import Settings
from tangible_runtime.settings import AuthSettings, KafkaSettings
from tangible_simulator.generator import Options
from tangible_simulator.runner import Plan, shard_accounts, simulate

# usage-ingest runs on the wall clock: the simulated weeks start a month back, on a Monday
_MONTH_AGO = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=30)
MONDAY_A_MONTH_AGO = _MONTH_AGO - timedelta(days=_MONTH_AGO.weekday())

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[4] / "services" / "usage-ingest" / "migrations"


async def test_tally_counts_each_accepted_event_once_and_sees_duplicates_and_conflicts(
    database_factory: DatabaseFactory,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    issue_token: IssueToken,
    tenant_id: str,
) -> None:
    url = await database_factory("usage-ingest", MIGRATIONS)
    settings = Settings(database_url=url, kafka=kafka_settings, auth=auth_settings)
    app = bootstrap(settings, configure_logs=False)
    async with running(app) as client:
        await wait_ready(client)
        plan = Plan(
            url="http://service",
            token=issue_token(tenant_id, "ingest"),
            accounts=10,
            seed=5,
            start=MONDAY_A_MONTH_AGO,
            speed=36_000,
            duration=30,
            rate=5_000,
            max_events=400,
            connections=2,
            options=Options(duplicate_rate=0.1, conflict_rate=0.03),
            transport=httpx.ASGITransport(app=app),
        )
        tally = await simulate(plan)
    assert sum(tally.sent.values()) == 400
    assert tally.outcomes["failed"] == 0 and tally.outcomes["rejected"] == 0
    assert tally.outcomes["accepted"] == tally.sent["original"] == len(tally.accepted_ids)
    assert tally.outcomes["duplicate"] == tally.sent["duplicate"] > 0
    assert tally.outcomes["conflict"] == tally.sent["conflict"] > 0
    assert sum(sum(types.values()) for types in tally.events.values()) == len(tally.accepted_ids)


async def test_sharded_processes_replay_a_history_over_real_http(
    database_factory: DatabaseFactory,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    issue_token: IssueToken,
    tenant_id: str,
) -> None:
    """Two shard processes post to a usage-ingest listening on a real socket."""
    url = await database_factory("usage-ingest", MIGRATIONS)
    settings = Settings(database_url=url, kafka=kafka_settings, auth=auth_settings)
    app = bootstrap(settings, configure_logs=False)
    async with running(app) as client:
        await wait_ready(client)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
        )
        serving = asyncio.create_task(server.serve())
        try:
            end = datetime.now(UTC)
            plan = Plan(
                url=f"http://127.0.0.1:{port}",
                token=issue_token(tenant_id, "ingest"),
                accounts=12,
                seed=11,
                start=end - timedelta(days=7),
                until=end,
                speed=7 * 86400 / 5,
                duration=60,
                rate=20_000,
                connections=2,
                processes=2,
                options=Options(duplicate_rate=0.05, volume=0.2),
            )
            tally = await simulate(plan)
        finally:
            server.should_exit = True
            await serving
    assert tally.outcomes["failed"] == 0 and tally.outcomes["rejected"] == 0
    assert tally.outcomes["accepted"] == tally.sent["original"] == len(tally.accepted_ids) > 100
    assert tally.outcomes["duplicate"] == tally.sent["duplicate"] > 0
    for shard in (0, 1):  # both shards' accounts, merged
        assert set(tally.events) & {a.id for a in shard_accounts(plan, shard)}
