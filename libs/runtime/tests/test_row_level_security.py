"""Tables added by any later migration come under forced row-level security without a word
in the revision: `secure_tenant_tables` runs after every migration run."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tangible_devstack.pytest_plugin import DatabaseFactory, OwnerUrl
from tangible_runtime.migrations import POLICY, upgrade_async

pytestmark = pytest.mark.integration

ENV = """from sqlalchemy import MetaData
from tangible_runtime.migrations import run_env

run_env(MetaData())
"""
REVISION = """from alembic import op

revision = "{revision}"
down_revision = {down}


def upgrade() -> None:
    for statement in {statements!r}:
        op.execute(statement)
"""


def add_revision(directory: Path, revision: str, down: str | None, *statements: str) -> None:
    text = REVISION.format(revision=revision, down=repr(down), statements=statements)
    (directory / "versions" / f"20261126_{revision}_probe.py").write_text(text)


async def secured(url: str) -> dict[str, tuple[bool, bool, str | None]]:
    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        rows = await connection.fetch(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " (SELECT pg_get_expr(p.polqual, p.polrelid) FROM pg_policy p"
            "   WHERE p.polrelid = c.oid AND p.polname = $1) AS policy"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'alembic_version'",
            POLICY,
        )
    finally:
        await connection.close()
    return {r["relname"]: (r["relrowsecurity"], r["relforcerowsecurity"], r["policy"]) for r in rows}


async def test_tables_of_a_later_migration_are_covered_automatically(
    tmp_path: Path, database_factory: DatabaseFactory, owner_url: OwnerUrl, app_role: str | None
) -> None:
    (tmp_path / "versions").mkdir()
    (tmp_path / "env.py").write_text(ENV)
    add_revision(tmp_path, "0001", None, "CREATE TABLE things (id text PRIMARY KEY, tenant_id text NOT NULL)")
    url = await database_factory(f"probe-{uuid.uuid4().hex[:6]}", tmp_path)
    assert set(await secured(owner_url(url))) == {"things"}

    add_revision(
        tmp_path,
        "0002",
        "0001",
        "CREATE TABLE later (id text PRIMARY KEY, tenant_id text NOT NULL)",
        "CREATE TABLE later_parts (id text PRIMARY KEY, later_id text NOT NULL REFERENCES later (id))",
        "CREATE TABLE settings (key text PRIMARY KEY)",
    )
    await upgrade_async(tmp_path, owner_url(url), app_role=app_role)
    tables = await secured(owner_url(url))
    assert tables["later"][:2] == (True, True) and "tangible.tenant" in str(tables["later"][2])
    assert tables["later_parts"][:2] == (True, True) and "later" in str(tables["later_parts"][2])
    assert tables["settings"] == (False, False, None)  # no tenant column, no parent: not a tenant table
