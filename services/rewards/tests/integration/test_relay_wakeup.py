"""A relay in another process than the writer publishes a commit's events at once: the
commit NOTIFYs, the relay LISTENs, and its poll is only a safety net."""

from __future__ import annotations

import time
from typing import Any

import pytest

from services.rewards.tests.conftest import Database, Kafka, Launch
from tangible_devstack.testing import eventually
from tangible_schemas.rewards import MilestoneReached

pytestmark = pytest.mark.integration

RULE = {
    "key": "first-report",
    "name": "First report",
    "kind": "usage_threshold",
    "params": {"usage_type": "report.generated", "target": 1},
    "reward": {"kind": "credits", "credits": "5.00"},
}
NEVER = 600.0  # seconds: a relay that waited for its poll would not publish within the test


async def test_a_commit_in_another_process_wakes_the_relay(
    launch: Launch, kafka: Kafka, admin: dict[str, str], make_usage: Any
) -> None:
    api = await launch(roles=("api",))
    assert (await api.post("/v1/milestones", json=RULE, headers=admin)).status_code == 201
    # separate runtimes share nothing in memory: only the database can wake this relay
    await launch(roles=("relay",), outbox_idle_seconds=NEVER, outbox_listening_poll_seconds=NEVER)
    await launch(roles=("consumer",))
    sent = time.monotonic()
    await kafka.send([make_usage("acct-wake")])

    async def published() -> None:
        reached = await kafka.rewards_events(MilestoneReached.event_type)
        assert [e.subject for e in reached] == ["acct-wake"]

    await eventually(published, timeout=30)
    assert time.monotonic() - sent < NEVER / 10


LISTENERS = """
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND query ILIKE 'LISTEN%'
"""


async def test_the_relay_listens_again_after_its_connection_is_killed(
    launch: Launch, kafka: Kafka, db: Database, admin: dict[str, str], make_usage: Any
) -> None:
    api = await launch(roles=("api",))
    assert (await api.post("/v1/milestones", json=RULE, headers=admin)).status_code == 201
    await launch(roles=("relay",), outbox_idle_seconds=NEVER, outbox_listening_poll_seconds=NEVER)
    await launch(roles=("consumer",))

    async def listening() -> list[int]:
        pids = [row[0] for row in await db.rows(LISTENERS)]
        assert len(pids) == 1
        return pids

    async def listening_anew() -> None:
        assert await listening() != killed

    killed = await eventually(listening, timeout=30)
    await db.scalar("SELECT pg_terminate_backend(:pid)", pid=killed[0])
    await eventually(listening_anew, timeout=30)
    await kafka.send([make_usage("acct-again")])

    async def published() -> None:
        reached = await kafka.rewards_events(MilestoneReached.event_type)
        assert [e.subject for e in reached] == ["acct-again"]

    await eventually(published, timeout=30)
