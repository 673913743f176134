"""Startup and readiness of real role processes: the port is bound at once and `/readyz`
says what the process waits for; the entitlements check API (answering from its in-memory
view) stays ready and answering when the broker goes away; a process that never reaches
Kafka gives up after KAFKA_STARTUP_WAIT_SECONDS with the startup-failure status."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from chaos.stack import ServiceProcess
from tangible_devstack.kafka import KafkaBroker
from tangible_devstack.processes import free_port
from tangible_devstack.pytest_plugin import DatabaseFactory, IssueToken
from tangible_devstack.scenario import bearer, term_around
from tangible_devstack.testing import eventually, running
from tangible_entitlements.bootstrap import bootstrap
from tangible_entitlements.config import Settings
from tangible_runtime.settings import AuthSettings, KafkaSettings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "acct-ready"
STARTUP_FAILURE = 3  # uvicorn's status for a failed startup


@pytest.fixture
async def entitlements_db(
    database_factory: DatabaseFactory,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    issue_token: IssueToken,
    tenant_id: str,
) -> str:
    """A migrated entitlements database with one account licensed for a boolean feature."""
    url = await database_factory("entitlements", ROOT / "services" / "entitlements" / "migrations")
    app = bootstrap(
        Settings(database_url=url, kafka=kafka_settings, auth=auth_settings),
        roles=("api",),
        configure_logs=False,
    )
    admin = bearer(issue_token(tenant_id, "admin"))
    async with running(app) as client:
        feature = {"key": "sso", "name": "SSO", "kind": "boolean"}
        assert (await client.post("/v1/features", json=feature, headers=admin)).status_code == 201
        plan = {"key": "p", "name": "P", "features": {"sso": {}}}
        assert (await client.post("/v1/plans", json=plan, headers=admin)).status_code == 201
        assert (await client.post("/v1/plans/p/versions/1/publish", headers=admin)).status_code == 200
        term_start, term_end = term_around(datetime.now(UTC))
        license = {"account_id": ACCOUNT, "plan_key": "p", "term_start": term_start, "term_end": term_end}
        assert (await client.post("/v1/licenses", json=license, headers=admin)).status_code == 201
    return url


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    """A broker of this test's own: it is killed mid-test."""
    broker = KafkaBroker(tmp_path / "kafka", port=free_port(), controller_port=free_port())
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _api_process(
    tmp_path: Path, database_url: str, auth: AuthSettings, bootstrap_servers: str, **env: str
) -> ServiceProcess:
    assert auth.public_key is not None
    return ServiceProcess(
        "entitlements",
        "api",
        {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": "ready.",
            "TANGIBLE_AUTH_PUBLIC_KEY": auth.public_key.get_secret_value(),
            "ENTITLEMENTS_DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            **env,
        },
        tmp_path / "api.log",
    )


async def _get(client: httpx.AsyncClient, path: str) -> httpx.Response:
    """A GET that fails as `eventually` retries while the process is not listening yet."""
    try:
        return await client.get(path)
    except httpx.TransportError as error:
        raise AssertionError(f"not listening yet: {error}") from error


async def test_the_check_api_keeps_answering_when_the_broker_dies(
    entitlements_db: str,
    own_broker: KafkaBroker,
    auth_settings: AuthSettings,
    issue_token: IssueToken,
    tenant_id: str,
    tmp_path: Path,
) -> None:
    process = _api_process(tmp_path, entitlements_db, auth_settings, own_broker.bootstrap_servers)
    process.start()
    try:
        headers = bearer(issue_token(tenant_id, "read"))
        async with httpx.AsyncClient(base_url=process.base_url, timeout=5) as client:

            async def ready() -> None:
                response = await _get(client, "/readyz")
                assert response.status_code == 200, response.text
                assert set(response.json()["checks"]) == {"entitlements_view", "credentials"}

            await eventually(ready, timeout=60, interval=0.2)
            check = f"/v1/accounts/{ACCOUNT}/entitlements/sso"
            assert (await client.get(check, headers=headers)).json()["has_access"] is True

            await asyncio.to_thread(own_broker.kill)
            for _ in range(10):  # answered from memory, the broker gone
                response = await client.get(check, headers=headers)
                assert response.status_code == 200 and response.json()["has_access"] is True
                await asyncio.sleep(0.2)
            assert (await client.get("/readyz")).status_code == 200
            assert process.alive()
    finally:
        process.stop()


async def test_the_port_answers_while_kafka_is_awaited_and_the_wait_is_bounded(
    entitlements_db: str, auth_settings: AuthSettings, issue_token: IssueToken, tenant_id: str, tmp_path: Path
) -> None:
    nowhere = f"127.0.0.1:{free_port()}"  # nothing listens there
    process = _api_process(tmp_path, entitlements_db, auth_settings, nowhere, KAFKA_STARTUP_WAIT_SECONDS="6")
    process.start()
    try:
        async with httpx.AsyncClient(base_url=process.base_url, timeout=5) as client:

            async def serving() -> httpx.Response:
                return await _get(client, "/readyz")

            response = await eventually(serving, timeout=30, interval=0.1)
            assert response.status_code == 503
            assert response.json()["detail"] == "waiting for Kafka"
            assert (await client.get("/healthz")).status_code == 200
            refused = await client.get(
                f"/v1/accounts/{ACCOUNT}/entitlements/sso", headers=bearer(issue_token(tenant_id, "read"))
            )
            assert refused.status_code == 503 and "Retry-After" in refused.headers
            assert refused.headers["content-type"] == "application/problem+json"

        assert process.process is not None
        status = await asyncio.to_thread(process.process.wait, 60)
        assert status == STARTUP_FAILURE, process.log_path.read_text()[-2000:]
    finally:
        process.stop()


async def test_every_worker_process_answers_while_kafka_is_awaited_and_a_failed_start_stops_all(
    database_factory: DatabaseFactory, auth_settings: AuthSettings, tmp_path: Path
) -> None:
    """usage-ingest's API in several processes (USAGE_INGEST_WORKERS): the port is bound as
    at once as with one, and one worker's failed startup ends the server with its status."""
    assert auth_settings.public_key is not None
    database_url = await database_factory("usage-ingest", ROOT / "services" / "usage-ingest" / "migrations")
    process = ServiceProcess(
        "usage-ingest",
        "api",
        {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",  # nothing listens there
            "KAFKA_STARTUP_WAIT_SECONDS": "8",
            "TANGIBLE_AUTH_PUBLIC_KEY": auth_settings.public_key.get_secret_value(),
            "USAGE_INGEST_DATABASE_URL": database_url,
            "USAGE_INGEST_WORKERS": "2",
            "LOG_LEVEL": "WARNING",
        },
        tmp_path / "ingest.log",
    )
    process.start()
    try:
        async with httpx.AsyncClient(base_url=process.base_url, timeout=5) as client:

            async def serving() -> httpx.Response:
                return await _get(client, "/readyz")

            response = await eventually(serving, timeout=30, interval=0.1)
            assert response.status_code == 503
            assert response.json()["detail"] == "waiting for Kafka"
            assert (await client.get("/healthz")).status_code == 200

        assert process.process is not None
        status = await asyncio.to_thread(process.process.wait, 60)
        assert status == STARTUP_FAILURE, process.log_path.read_text()[-2000:]
    finally:
        process.stop()
