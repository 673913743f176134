"""Graceful shutdown and restarts of real role processes (`python -m tangible_entitlements
consumer`) on real Kafka and PostgreSQL: SIGTERM during a batch, SIGKILL during load, and a
start while the broker is unreachable. After each, the usage count is exact."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from chaos.stack import ServiceProcess
from chaos.toxiproxy import Toxiproxy
from tangible_devstack.processes import free_port
from tangible_devstack.pytest_plugin import DatabaseFactory, IssueToken
from tangible_devstack.scenario import bearer, term_around
from tangible_devstack.testing import eventually, running
from tangible_entitlements.bootstrap import bootstrap
from tangible_entitlements.config import Settings
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import AuthSettings, KafkaSettings
from tangible_schemas import new_event, to_record
from tangible_schemas.usage import UsageRecorded

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = [f"acct-{n}" for n in range(20)]
Spawn = Callable[..., ServiceProcess]


@pytest.fixture
async def entitlements_db(
    database_factory: DatabaseFactory,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    issue_token: IssueToken,
    tenant_id: str,
) -> str:
    """A migrated entitlements database with a metered feature and a license per account."""
    url = await database_factory("entitlements", ROOT / "services" / "entitlements" / "migrations")
    app = bootstrap(
        Settings(database_url=url, kafka=kafka_settings, auth=auth_settings),
        roles=("api",),
        configure_logs=False,
    )
    admin = bearer(issue_token(tenant_id, "admin"))
    feature = {
        "key": "reports",
        "name": "Reports",
        "kind": "metered",
        "meter": {"event_type": "report.generated", "aggregation": "count", "reset_period": "month"},
        "outcome": "reports",
    }
    async with running(app) as client:
        assert (await client.post("/v1/features", json=feature, headers=admin)).status_code == 201
        plan = {"key": "p", "name": "P", "features": {"reports": {"limit": 1e9, "hard": False}}}
        assert (await client.post("/v1/plans", json=plan, headers=admin)).status_code == 201
        assert (await client.post("/v1/plans/p/versions/1/publish", headers=admin)).status_code == 200
        term_start, term_end = term_around(datetime.now(UTC))
        for account in ACCOUNTS:
            body = {
                "account_id": account,
                "plan_key": "p",
                "term_start": term_start,
                "term_end": term_end,
            }
            assert (await client.post("/v1/licenses", json=body, headers=admin)).status_code == 201
    return url


@pytest.fixture
def spawn(tmp_path: Path, kafka_settings: KafkaSettings, auth_settings: AuthSettings) -> Iterator[Spawn]:
    started: list[ServiceProcess] = []

    def start(database_url: str, *, bootstrap_servers: str | None = None, **env: str) -> ServiceProcess:
        assert auth_settings.public_key is not None
        process = ServiceProcess(
            "entitlements",
            "consumer",
            {
                **os.environ,
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers or kafka_settings.bootstrap_servers,
                "KAFKA_TOPIC_PREFIX": kafka_settings.topic_prefix,
                "TANGIBLE_AUTH_PUBLIC_KEY": auth_settings.public_key.get_secret_value(),
                "ENTITLEMENTS_DATABASE_URL": database_url,
                "LOG_LEVEL": "WARNING",
                **env,
            },
            tmp_path / f"consumer-{len(started)}.log",
        )
        process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


async def _produce(kafka_settings: KafkaSettings, tenant_id: str, count: int, *, chunk: int = 5000) -> None:
    clients = KafkaClients(kafka_settings)
    producer = clients.producer(linger_ms=20)
    await producer.start()
    try:
        now = datetime.now(UTC)
        for start in range(0, count, chunk):
            futures = []
            for n in range(start, min(count, start + chunk)):
                data = UsageRecorded(
                    tenant_id=tenant_id,
                    account_id=ACCOUNTS[n % len(ACCOUNTS)],
                    event_id=f"e{n}",
                    event_source="test",
                    usage_type="report.generated",
                    occurred_at=now,
                )
                record = to_record(new_event(data, source="test", event_id=str(uuid.uuid4())))
                topic = clients.topic(record.topic)
                futures.append(
                    await producer.send(topic, value=record.value, key=record.key, headers=record.headers)
                )
            await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _counted(database_url: str, tenant_id: str) -> int:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        # the services' role reads under row-level security: only the tenant it names
        await connection.execute("SELECT set_config('tangible.tenant', $1, false)", tenant_id)
        total = await connection.fetchval(
            "SELECT coalesce(sum(value), 0) FROM usage_counters WHERE tenant_id = $1", tenant_id
        )
        return int(total)
    finally:
        await connection.close()


async def _exactly(database_url: str, tenant_id: str, expected: int, timeout: float = 60) -> None:
    async def probe() -> None:
        assert await _counted(database_url, tenant_id) == expected

    await eventually(probe, timeout=timeout, interval=0.3)
    await asyncio.sleep(1)  # nothing more arrives: the count is exact, not merely reached
    assert await _counted(database_url, tenant_id) == expected


async def _wait_exit(process: ServiceProcess, timeout: float = 40) -> int:
    assert process.process is not None
    return await asyncio.wait_for(asyncio.to_thread(process.process.wait), timeout)


async def test_sigterm_during_a_batch_loses_nothing_and_counts_nothing_twice(
    entitlements_db: str, kafka_settings: KafkaSettings, tenant_id: str, spawn: Spawn
) -> None:
    total = 40_000
    await _produce(kafka_settings, tenant_id, total)
    consumer = spawn(
        entitlements_db, ENTITLEMENTS_CONSUMER_BATCH_SIZE="500", ENTITLEMENTS_USAGE_LINGER_MS="0"
    )

    async def started_counting() -> None:
        assert await _counted(entitlements_db, tenant_id) > 0

    await eventually(started_counting, timeout=90, interval=0.02)
    assert consumer.process is not None
    consumer.process.send_signal(signal.SIGTERM)
    assert await _wait_exit(consumer) == 0  # a clean exit: the batch in hand finished or rolled back
    stopped_at = await _counted(entitlements_db, tenant_id)
    assert 0 < stopped_at < total, "SIGTERM must land while the backlog is still being consumed"
    spawn(entitlements_db)
    await _exactly(entitlements_db, tenant_id, total)


async def test_a_consumer_killed_and_restarted_during_load_recovers_by_itself(
    entitlements_db: str, kafka_settings: KafkaSettings, tenant_id: str, spawn: Spawn
) -> None:
    consumer = spawn(entitlements_db, ENTITLEMENTS_CONSUMER_BATCH_SIZE="300")
    load = asyncio.create_task(_produce(kafka_settings, tenant_id, 30_000, chunk=1000))

    async def counting() -> None:
        assert await _counted(entitlements_db, tenant_id) > 0

    await eventually(counting, timeout=90, interval=0.05)
    await asyncio.to_thread(consumer.kill)
    spawn(entitlements_db)  # the same command, nothing else: no manual step
    await load
    await _exactly(entitlements_db, tenant_id, 30_000)


async def test_a_consumer_started_while_kafka_is_unreachable_waits_for_it(
    entitlements_db: str, kafka_settings: KafkaSettings, tenant_id: str, spawn: Spawn, tmp_path: Path
) -> None:
    """Found by the chaos run: a process restarted during a broker restart exited at startup."""
    toxiproxy = Toxiproxy(tmp_path / "toxiproxy.log")
    toxiproxy.start()
    try:
        broker_port = int(kafka_settings.bootstrap_servers.rsplit(":", 1)[1])
        listen = free_port()
        toxiproxy.create_proxy("kafka", listen_port=listen, upstream_port=broker_port)
        toxiproxy.set_enabled("kafka", False)
        consumer = spawn(entitlements_db, bootstrap_servers=f"127.0.0.1:{listen}")

        async def waiting_for_kafka() -> None:  # however long its interpreter took to start
            assert "kafka_unreachable_at_start" in consumer.log_path.read_text()

        await eventually(waiting_for_kafka, timeout=60)
        assert consumer.alive(), consumer.log_path.read_text()[-2000:]
        async with httpx.AsyncClient(base_url=consumer.base_url) as client:

            async def live() -> None:
                try:
                    response = await client.get("/healthz")
                except httpx.TransportError as error:  # binding follows the first refusal by ms
                    raise AssertionError(str(error)) from error
                assert response.status_code == 200

            # waiting in its startup, the port bound: live, not ready, and says why
            await eventually(live, timeout=10)
            waiting = await client.get("/readyz")
            assert waiting.status_code == 503 and waiting.json()["detail"] == "waiting for Kafka"
            toxiproxy.set_enabled("kafka", True)
            await _produce(kafka_settings, tenant_id, 1_000)
            await _exactly(entitlements_db, tenant_id, 1_000)
            assert (await client.get("/readyz")).status_code == 200
    finally:
        toxiproxy.stop()


async def test_sigterm_while_waiting_for_kafka_at_startup_stops_the_process_at_once(
    entitlements_db: str, spawn: Spawn, tmp_path: Path
) -> None:
    """Found by the chaos run: a role restarted during the broker restart ignored SIGTERM
    until Kafka came back (uvicorn only notes a signal during startup)."""
    toxiproxy = Toxiproxy(tmp_path / "toxiproxy.log")
    toxiproxy.start()
    try:
        listen = free_port()
        toxiproxy.create_proxy("kafka", listen_port=listen, upstream_port=free_port())  # nothing there
        consumer = spawn(entitlements_db, bootstrap_servers=f"127.0.0.1:{listen}")

        async def waiting_for_kafka() -> None:
            assert "kafka_unreachable_at_start" in consumer.log_path.read_text()

        await eventually(waiting_for_kafka, timeout=60)
        assert consumer.process is not None
        consumer.process.send_signal(signal.SIGTERM)
        assert await _wait_exit(consumer, timeout=10) == 0
    finally:
        toxiproxy.stop()
