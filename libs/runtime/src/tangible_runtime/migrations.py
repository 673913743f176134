"""Alembic, driven from code: each service's `migrations/env.py` calls `run_env`.

Migrations run as the `migrate` role (a Helm hook Job in production); `make run` and the
tests run the same code before starting the services. They connect as the owner of the
tables; after every run, `secure_tenant_tables` puts each table with a `tenant_id` column
under forced row-level security (a table without one that references such a table through a
foreign key is covered through its parent's row) and grants the application role (which owns
nothing and so cannot turn it off) what it needs — new tables are covered without a revision.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

POLICY = "tenant_isolation"
_VISIBLE = (
    "tenant_id = current_setting('tangible.tenant', true) OR current_setting('tangible.tenant', true) = '*'"
)
_APP_ROLE = "tangible_app_role"  # Config.attributes key


def alembic_config(script_location: Path, database_url: str, app_role: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes[_APP_ROLE] = app_role
    return config


def upgrade(
    script_location: Path, database_url: str, revision: str = "head", *, app_role: str | None = None
) -> None:
    """`app_role`: the role the service connects as, granted its privileges on every table
    (None: the service connects as the owner, still under forced row-level security)."""
    command.upgrade(alembic_config(script_location, database_url, app_role), revision)


async def upgrade_async(script_location: Path, database_url: str, *, app_role: str | None = None) -> None:
    """Alembic's env runs its own event loop; keep it off the caller's loop."""
    await asyncio.to_thread(upgrade, script_location, database_url, app_role=app_role)


def tenant_tables(connection: Connection) -> list[str]:
    """Tables (and partitioned tables) of the current schema with a `tenant_id` column."""
    rows = connection.execute(
        text(
            "SELECT c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND a.attname = 'tenant_id' AND NOT a.attisdropped ORDER BY c.relname"
        )
    )
    return [str(row[0]) for row in rows]


def child_tables(connection: Connection, covered: Collection[str]) -> dict[str, str]:
    """Tables without `tenant_id` whose foreign key references a covered table, transitively:
    table → policy expression that shows a row only when the row it references is visible."""
    rows = connection.execute(
        text(
            "SELECT c.relname AS child, p.relname AS parent, "
            "ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i) "
            "      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i) AS cols, "
            "ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i) "
            "      JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i) AS refs "
            "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            "JOIN pg_class p ON p.oid = k.confrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE k.contype = 'f' AND n.nspname = current_schema() ORDER BY c.relname, k.conname"
        )
    ).all()
    children: dict[str, str] = {}
    known = set(covered)
    while True:
        found = {
            row.child: row
            for row in rows
            if row.parent in known and row.child not in known and row.child not in children
        }
        if not found:
            return children
        for child, row in found.items():
            on = " AND ".join(
                f'parent."{ref}" = "{child}"."{col}"' for col, ref in zip(row.cols, row.refs, strict=True)
            )
            children[child] = f'EXISTS (SELECT 1 FROM "{row.parent}" AS parent WHERE {on})'
        known |= set(found)


def secure_tenant_tables(connection: Connection, app_role: str | None) -> list[str]:
    """Enable and force row-level security with the tenant policy on every tenant table (and
    on tables that reference one, through their parent's row), and grant `app_role` its
    privileges. Idempotent; takes a table lock only on changes."""
    tenants = tenant_tables(connection)
    policies = dict.fromkeys(tenants, _VISIBLE) | child_tables(connection, tenants)
    for table, visible in policies.items():
        state = connection.execute(
            text(
                "SELECT c.relrowsecurity, c.relforcerowsecurity, "
                "(SELECT pg_get_expr(p.polqual, p.polrelid) FROM pg_policy p "
                " WHERE p.polrelid = c.oid AND p.polname = :policy) "
                "FROM pg_class c WHERE c.oid = CAST(:table AS regclass)"
            ),
            {"policy": POLICY, "table": f'"{table}"'},
        ).one()
        enabled, forced, policy = state
        name = f'"{table}"'
        if not enabled:
            connection.execute(text(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"))
        if not forced:
            connection.execute(text(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY"))
        if policy is None:
            connection.execute(
                text(f"CREATE POLICY {POLICY} ON {name} USING ({visible}) WITH CHECK ({visible})")
            )
    if app_role is not None:
        role = connection.execute(
            text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": app_role}
        ).scalar()
        if role is None:
            raise RuntimeError(f"the application role {app_role!r} does not exist")
        if role:
            raise RuntimeError(f"the application role {app_role!r} bypasses row-level security")
        quoted = connection.dialect.identifier_preparer.quote(app_role)
        connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
        connection.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}")
        )
        connection.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {quoted}"))
        connection.execute(text(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))
    return list(policies)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's env.py (online mode, asyncpg)."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            # a data migration sees every tenant's rows, also as a non-superuser owner
            await connection.execute(text("SELECT set_config('tangible.tenant', '*', false)"))
            await connection.commit()
            await connection.run_sync(run)
            await connection.commit()
            await connection.run_sync(secure_tenant_tables, context.config.attributes.get(_APP_ROLE))
            await connection.commit()
        await engine.dispose()

    asyncio.run(main())


def create_runtime_tables() -> None:
    """The inbox and outbox every service has (see `tangible_runtime.tables`)."""
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("inbox_received_at", "inbox", ["received_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("key", sa.LargeBinary, nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.dialects.postgresql.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
