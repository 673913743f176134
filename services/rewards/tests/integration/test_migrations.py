"""The query-side table mirror (adapters/tables.py) matches what the migrations create."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from tangible_rewards.adapters.tables import metadata

pytestmark = pytest.mark.integration


RUNTIME_TABLES = {"inbox", "outbox", "audit_log"}  # the shared runtime's, mirrored in tangible_runtime.tables


def _ours(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    table = obj if kind == "table" else getattr(obj, "table", None)
    return getattr(table, "name", None) not in RUNTIME_TABLES


async def test_tables_py_mirrors_the_migrated_schema(rewards_url: str) -> None:
    engine = create_async_engine(rewards_url)
    try:
        async with engine.connect() as connection:

            def diff(sync_connection: Any) -> list[Any]:
                context = MigrationContext.configure(
                    sync_connection, opts={"compare_type": True, "include_object": _ours}
                )
                return list(compare_metadata(context, metadata))

            differences = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []
