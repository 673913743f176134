"""The inbox forgets event ids once no redelivery can bring them back: the scheduler role
prunes ids older than the retention, batch by batch, and keeps the recent ones (without it,
every usage event ever consumed would leave a row behind)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import NullPool
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from tangible_devstack.testing import eventually
from tangible_runtime.inbox import prune_inbox_until_done

pytestmark = pytest.mark.integration

RETENTION_DAYS = 8


async def _fill(h: Any, *, old: int, recent: int) -> None:
    """`old` ids received past the retention, `recent` ones received an hour ago."""
    await h.sql(
        "INSERT INTO inbox (consumer, event_id, received_at) "
        "SELECT 'entitlements-usage', 'old-' || n, now() - make_interval(days => :days, secs => n) "
        "FROM generate_series(1, :old) AS n",
        days=RETENTION_DAYS,
        old=old,
    )
    await h.sql(
        "INSERT INTO inbox (consumer, event_id, received_at) "
        "SELECT 'entitlements-usage', 'recent-' || n, now() - interval '1 hour' "
        "FROM generate_series(1, :recent) AS n",
        recent=recent,
    )


async def _left(h: Any) -> dict[str, int]:
    rows = await h.sql("SELECT split_part(event_id, '-', 1) AS age, count(*) AS n FROM inbox GROUP BY 1")
    return {row["age"]: row["n"] for row in rows}


async def test_pruning_goes_batch_by_batch_until_only_recent_ids_are_left(harness: Any) -> None:
    await _fill(harness, old=25, recent=5)
    engine = create_async_engine(harness.owner_url, poolclass=NullPool)
    try:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        pruned = await prune_inbox_until_done(sessions, timedelta(days=RETENTION_DAYS), batch_size=4)
    finally:
        await engine.dispose()
    assert pruned == 25
    assert await _left(harness) == {"recent": 5}


async def test_the_scheduler_role_prunes_the_inbox_on_its_interval(harness: Any) -> None:
    harness.settings = harness.settings.model_copy(
        update={"inbox_retention_days": RETENTION_DAYS, "inbox_prune_interval_seconds": 0.1}
    )
    async with harness.run(roles=("scheduler",)):
        await _fill(harness, old=3, recent=2)  # after the round at start: a later round prunes

        async def pruned() -> None:
            assert await _left(harness) == {"recent": 2}

        await eventually(pruned)
