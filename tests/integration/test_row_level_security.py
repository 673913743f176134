"""Row-level security as defence in depth: every tenant table of every service is under a
forced tenant policy, the role the services connect as cannot turn it off, and on real data
a transaction sees and writes only its own tenant's rows.

A table is covered when it has a `tenant_id` column or references a covered table through a
foreign key; any other must be listed in SHARED with the reason it holds no tenant's data, so
a new table is covered (or fails here) without editing this test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tangible_devstack.pytest_plugin import DatabaseFactory, OwnerUrl
from tangible_runtime.migrations import POLICY

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("usage-ingest", "entitlements", "rewards", "notifications")
# Tables that hold no tenant's data, or whose rows carry the tenant only inside an opaque key.
SHARED: dict[str, dict[str, str]] = {
    "usage-ingest": {
        "alembic_version": "migration state",
        "dedup_keys": "keyed by a hash over (tenant, source, id): no readable tenant data",
    },
    "entitlements": {"alembic_version": "migration state"},
    "rewards": {"alembic_version": "migration state"},
    "notifications": {"alembic_version": "migration state"},
}
RUNTIME_TABLES = {
    "inbox": "consumed event ids (idempotency), read only by consumers",
    "outbox": "serialized events awaiting the relay, read only by the relay",
}


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(dsn(url))
    try:
        yield connection
    finally:
        await connection.close()


async def tables(connection: asyncpg.Connection) -> dict[str, dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) AS owner,"
        " EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'"
        "         AND NOT a.attisdropped) AS has_tenant,"
        " (SELECT pg_get_expr(p.polqual, p.polrelid) FROM pg_policy p"
        "   WHERE p.polrelid = c.oid AND p.polname = $1) AS policy"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')",
        POLICY,
    )
    return {row["relname"]: dict(row) for row in rows}


@pytest.mark.parametrize("service", SERVICES)
async def test_every_tenant_table_is_under_forced_row_level_security(
    service: str, database_factory: DatabaseFactory, owner_url: OwnerUrl, app_role: str | None
) -> None:
    assert app_role is not None, "the test server must let the suite create the application role"
    url = await database_factory(service, ROOT / "services" / service / "migrations")
    assert make_url(url).username == app_role, "services must connect as the application role"
    async with connect(owner_url(url)) as owner:
        found = await tables(owner)
        role = await owner.fetchrow(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1", app_role
        )
    assert role is not None and not role["rolsuper"] and not role["rolbypassrls"]

    shared = {**SHARED[service], **RUNTIME_TABLES}
    assert not set(shared) - set(found), f"{service}: SHARED names tables that no longer exist"
    secured = {t: info for t, info in found.items() if t not in shared}
    uncovered = sorted(t for t, info in secured.items() if info["policy"] is None)
    assert not uncovered, f"{service}: tables under no tenant policy and not declared shared: {uncovered}"
    for table, info in secured.items():
        assert info["relrowsecurity"] and info["relforcerowsecurity"], f"{service}.{table}: RLS not forced"
        assert info["owner"] != app_role, f"{service}.{table} is owned by the application role"
        if info["has_tenant"]:
            assert "tangible.tenant" in info["policy"], f"{service}.{table}: {info['policy']}"

    async with connect(url) as app:
        for table in secured:  # the application role cannot lift the policy
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app.execute(f'DROP POLICY {POLICY} ON "{table}"')


def copy_as(table: str) -> str:
    """A copy of one visible row under the tenant $1 (append-only tables refuse an UPDATE)."""
    row = (
        f"jsonb_populate_record(NULL::\"{table}\", to_jsonb(x) || jsonb_build_object('tenant_id', $1::text))"
    )
    return f'INSERT INTO "{table}" OVERRIDING SYSTEM VALUE SELECT ({row}).* FROM "{table}" x LIMIT 1'


async def visible(connection: asyncpg.Connection, table: str, *tenants: str | None) -> list[int]:
    """The table's row count as each tenant sees it (None: no tenant set), all in one snapshot:
    the seeded tenants' services are still at work and may add rows between two counts."""
    counts = []
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        for tenant in tenants:
            await connection.execute("SELECT set_config('tangible.tenant', $1, true)", tenant or "")
            counts.append(await connection.fetchval(f'SELECT count(*) FROM "{table}"'))
    assert all(isinstance(count, int) for count in counts)
    return counts


async def test_a_transaction_sees_and_writes_only_its_tenants_rows(
    start_system: Any,
    started_services: dict[str, Any],
    seed: Any,
    notifications_overrides: dict[str, Any],
    tenant_id: str,
) -> None:
    system = await start_system(overrides={"notifications": notifications_overrides})
    victim, attacker = tenant_id, f"{tenant_id}-other"
    await seed(system, victim, "v1ct1m")
    await seed(system, attacker, "att4ck")

    populated = set()
    for name, service in started_services.items():
        async with connect(service.database_url) as app:
            shared = {**SHARED[name], **RUNTIME_TABLES}
            found = {t: info for t, info in (await tables(app)).items() if t not in shared}
            for table, info in found.items():
                mine, theirs, untenanted, everyone = await visible(app, table, victim, attacker, None, "*")
                assert untenanted == 0, f"{name}.{table}: seen without a tenant"
                assert mine + theirs == everyone, f"{name}.{table}"
                if mine and theirs:
                    populated.add(f"{name}.{table}")
                if not info["has_tenant"] or not mine:
                    continue
                async with app.transaction():
                    await app.execute("SELECT set_config('tangible.tenant', $1, true)", victim)
                    assert (
                        await app.fetchval(f'SELECT count(*) FROM "{table}" WHERE tenant_id <> $1', victim)
                        == 0
                    )
                    assert (
                        await app.execute(f'DELETE FROM "{table}" WHERE tenant_id = $1', attacker)
                        == "DELETE 0"
                    )
                    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # WITH CHECK
                        await app.execute(copy_as(table), attacker)

    # through a parent: an attempt on the other tenant's delivery cannot be written
    async with connect(started_services["notifications"].database_url) as app:
        async with app.transaction():
            await app.execute("SELECT set_config('tangible.tenant', $1, true)", attacker)
            theirs = await app.fetchval("SELECT id FROM deliveries LIMIT 1")
        async with app.transaction():
            await app.execute("SELECT set_config('tangible.tenant', $1, true)", victim)
            assert (
                await app.fetchval("SELECT count(*) FROM delivery_attempts WHERE delivery_id = $1", theirs)
                == 0
            )
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app.execute(
                    "INSERT INTO delivery_attempts (delivery_id, number, attempted_at, outcome, duration_ms)"
                    " VALUES ($1, 99, now(), 'succeeded', 1)",
                    theirs,
                )
    expected = {"notifications.channel_secrets", "notifications.delivery_attempts", "rewards.ledger_entries"}
    assert expected <= populated, sorted(populated)
    assert len(populated) >= 20, sorted(populated)
