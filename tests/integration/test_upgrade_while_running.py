"""Upgrade while running (docs/upgrades.md). entitlements' previous release, the code of main
just before its newest migration landed (taken from git), serves checks from two API processes
and consumes usage with two consumer processes and a relay, under steady usage through ingest
and steady checks. The newest migration is applied under that load; then each process is
replaced by the current code, one at a time, an API process leaving the rotation before it
stops (as a pod leaves its Service's endpoints). No check fails, no usage event is
dead-lettered, and every accepted event is counted once.

Short form in `make test`; `make upgrade-drill` holds each phase longer
(TANGIBLE_UPGRADE_PHASE_SECONDS)."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import subprocess
import sys
import tarfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory

from chaos.stack import ServiceProcess, wait_ready
from tangible_devstack.pytest_plugin import DatabaseFactory, IssueToken, OwnerUrl
from tangible_devstack.scenario import bearer, term_around
from tangible_devstack.testing import eventually, read_topic, running
from tangible_devstack.testing import wait_ready as wait_app_ready
from tangible_ingest import bootstrap as ingest
from tangible_ingest.config import Settings as IngestSettings
from tangible_runtime.consumer_offsets import groups_of
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.migrations import alembic_config, upgrade_async
from tangible_runtime.settings import AuthSettings, KafkaSettings
from tangible_schemas import dead_letter_topic

pytestmark = [pytest.mark.integration, pytest.mark.long(100), pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "services" / "entitlements" / "migrations"
# what the previous release's entitlements imports from this repository
PACKAGES = ("services/entitlements", "libs/runtime", "libs/schemas")
PHASE_SECONDS = float(os.environ.get("TANGIBLE_UPGRADE_PHASE_SECONDS", "4"))
ACCOUNTS = [f"acct-{n}" for n in range(10)]


def _git(*args: str) -> bytes:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True).stdout


def _head_revision(migrations: Path) -> tuple[str, str | None, Path]:
    scripts = ScriptDirectory.from_config(alembic_config(migrations, "postgresql://unused"))
    [head] = scripts.get_revisions("head")
    down = head.down_revision
    assert down is None or isinstance(down, str), "a merge migration: upgrade one parent at a time"
    return head.revision, down, Path(head.path)


def previous_release(into: Path) -> tuple[str, Path]:
    """The commit main was at before its newest entitlements migration landed (or HEAD, while
    that migration is not committed yet), extracted to `into`; its migrations folder."""
    _, _, newest = _head_revision(MIGRATIONS)
    relative = newest.relative_to(ROOT).as_posix()
    added = _git("log", "--first-parent", "-m", "--diff-filter=A", "--format=%H", "-1", "--", relative)
    commit = f"{added.decode().strip()}^1" if added.strip() else "HEAD"
    archive = _git("archive", "--format=tar", commit, *PACKAGES)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return _git("rev-parse", "--short", commit).decode().strip(), into / "services/entitlements/migrations"


def _runtime_imported_from(env: dict[str, str]) -> str:
    command = [sys.executable, "-c", "import tangible_entitlements, tangible_runtime as r; print(r.__file__)"]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


@dataclass
class Load:
    """Usage through ingest and checks against whichever API processes are in rotation."""

    ingest: httpx.AsyncClient
    ingest_token: str
    read_token: str
    rotation: list[str]
    sent: Counter[str] = field(default_factory=Counter)
    checks: int = 0
    failures: list[str] = field(default_factory=list)
    running: bool = True

    async def send_usage(self) -> None:
        for batch in itertools.count():
            if not self.running:
                return
            events: list[dict[str, Any]] = [
                {
                    "specversion": "1.0",
                    "id": f"upgrade-{batch}-{n}",
                    "source": "app://reports",
                    "type": "report.generated",
                    "subject": ACCOUNTS[n % len(ACCOUNTS)],
                    "time": datetime.now(UTC).isoformat(),
                    "data": {"quantity": 1},
                }
                for n in range(20)
            ]
            response = await self.ingest.post(
                "/v1/events",
                json=events,
                headers={**bearer(self.ingest_token), "Content-Type": "application/cloudevents-batch+json"},
            )
            if response.status_code == 202 and response.json()["accepted"] == len(events):
                self.sent.update(e["subject"] for e in events)
            else:
                self.failures.append(f"ingest {response.status_code}: {response.text[:200]}")
            await asyncio.sleep(0.1)

    async def check(self) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            for n in itertools.count():
                if not self.running:
                    return
                base = self.rotation[n % len(self.rotation)]
                account = ACCOUNTS[n % len(ACCOUNTS)]
                url = f"{base}/v1/accounts/{account}/entitlements/reports"
                try:
                    response = await client.get(url, headers=bearer(self.read_token))
                    if response.status_code != 200:
                        self.failures.append(f"check {base} {response.status_code}: {response.text[:200]}")
                except httpx.HTTPError as error:
                    self.failures.append(f"check {base}: {type(error).__name__}: {error}")
                self.checks += 1
                await asyncio.sleep(0.02)


async def _call(client: httpx.AsyncClient, path: str, token: str, body: dict[str, Any]) -> None:
    response = await client.post(path, json=body, headers=bearer(token))
    assert response.status_code < 300, f"{path}: {response.status_code} {response.text}"


async def _provision(base: str, admin: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        meter = {"event_type": "report.generated", "aggregation": "count", "reset_period": "month"}
        feature = {"key": "reports", "name": "Reports", "kind": "metered", "meter": meter, "outcome": "R"}
        await _call(client, "/v1/features", admin, feature)
        plan = {"key": "starter", "name": "Starter", "features": {"reports": {"limit": 10_000_000}}}
        await _call(client, "/v1/plans", admin, plan)
        await _call(client, "/v1/plans/starter/versions/1/publish", admin, {})
        start, end = term_around(datetime.now(UTC))
        for account in ACCOUNTS:
            body = {"account_id": account, "plan_key": "starter", "term_start": start, "term_end": end}
            await _call(client, "/v1/licenses", admin, body)


async def _started(process: ServiceProcess) -> ServiceProcess:
    process.start()
    await asyncio.to_thread(wait_ready, process, time.monotonic() + 120)
    return process


async def _replace(old: ServiceProcess, env: dict[str, str], log: Path) -> ServiceProcess:
    """SIGTERM the old process (it must exit 0 by itself), then the current code on its port."""
    exit_code = await asyncio.to_thread(old.terminate)
    assert exit_code == 0, f"{old.name} of the previous release exited {exit_code} on SIGTERM"
    return await _started(ServiceProcess(old.service, old.role, env, log, port=old.port))


async def test_a_rolling_upgrade_under_load_fails_no_request_and_loses_no_event(
    database_factory: DatabaseFactory,
    owner_url: OwnerUrl,
    app_role: str | None,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    issue_token: IssueToken,
    tenant_id: str,
    tmp_path: Path,
) -> None:
    release, old_migrations = previous_release(tmp_path / "previous")
    head, down, _ = _head_revision(MIGRATIONS)
    assert _head_revision(old_migrations)[0] == down, (
        f"the previous release ({release}) must stand one migration before {head}"
    )
    url = await database_factory("entitlements-previous", old_migrations)  # its schema
    assert auth_settings.public_key is not None
    env = {
        **os.environ,
        "ENTITLEMENTS_DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": kafka_settings.topic_prefix,
        "TANGIBLE_AUTH_PUBLIC_KEY": auth_settings.public_key.get_secret_value(),
        "LOG_LEVEL": "WARNING",
    }
    # the previous release's packages come first on the path: they shadow the current ones
    old_env = {**env, "PYTHONPATH": os.pathsep.join(str(tmp_path / "previous" / p / "src") for p in PACKAGES)}
    shadowed = await asyncio.to_thread(_runtime_imported_from, old_env)
    assert shadowed.startswith(str(tmp_path / "previous")), f"the old processes would run {shadowed}"
    roles = ["api", "api", "consumer", "consumer", "relay"]
    processes = [
        ServiceProcess("entitlements", role, old_env, tmp_path / f"old-{role}-{n}.log")
        for n, role in enumerate(roles)
    ]
    admin = issue_token(tenant_id, "admin")
    ingest_url = await database_factory("usage-ingest", ROOT / "services" / "usage-ingest" / "migrations")
    ingest_settings = IngestSettings(database_url=ingest_url, kafka=kafka_settings, auth=auth_settings)
    ingest_app = ingest.bootstrap(ingest_settings, roles=ingest.ROLES, configure_logs=False)
    tasks: list[asyncio.Task[None]] = []
    try:
        await asyncio.gather(*(_started(p) for p in processes))
        apis = [p for p in processes if p.role == "api"]
        await _provision(apis[0].base_url, admin)
        async with running(ingest_app) as ingest_client:
            await wait_app_ready(ingest_client)
            load = Load(
                ingest_client,
                issue_token(tenant_id, "ingest"),
                issue_token(tenant_id, "read"),
                rotation=[p.base_url for p in apis],
            )
            tasks = [asyncio.create_task(load.send_usage()), asyncio.create_task(load.check())]
            await asyncio.sleep(PHASE_SECONDS)

            # expand: the newest migration under the previous release's running processes
            await upgrade_async(MIGRATIONS, owner_url(url), app_role=app_role)
            await asyncio.sleep(PHASE_SECONDS)

            for n, old in enumerate(processes):  # workers first, then the APIs, one at a time
                if old.role == "api":
                    load.rotation.remove(old.base_url)
                    await asyncio.sleep(0.5)  # requests in flight to it finish
                processes[n] = await _replace(old, env, tmp_path / f"new-{old.role}-{n}.log")
                if old.role == "api":
                    load.rotation.append(old.base_url)
                await asyncio.sleep(PHASE_SECONDS / 2)
            await asyncio.sleep(PHASE_SECONDS)
            load.running = False
            await asyncio.gather(*tasks)

        assert not load.failures, load.failures[:10]
        # the load ran through every step (a 10 s hold sends ~2,000 events; the floor is loose
        # for a loaded machine)
        assert load.checks >= 100 and sum(load.sent.values()) >= 500, (load.checks, load.sent)

        # every accepted event counted once, read from a process of the current release
        [current_api, *_] = [p for p in processes if p.role == "api"]
        await eventually(lambda: _usage_equals(current_api.base_url, admin, load.sent), timeout=60)
        clients = KafkaClients(kafka_settings)
        for group in groups_of("entitlements"):
            dead = [
                r
                for r in await read_topic(clients, dead_letter_topic(group).name)
                if r.key is not None and r.key.decode().startswith(tenant_id)
            ]
            assert dead == [], f"{group} dead-lettered {len(dead)} records during the upgrade"
    finally:
        for task in tasks:
            task.cancel()
        for process in processes:
            await asyncio.to_thread(process.stop)


async def _usage_equals(base: str, admin: str, sent: Counter[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for account in ACCOUNTS:
            response = await client.get(f"/v1/accounts/{account}/entitlements/reports", headers=bearer(admin))
            assert response.status_code == 200, response.text
            assert response.json()["usage"] == sent[account], (
                account,
                response.json()["usage"],
                sent[account],
            )
