"""A milestone is rewarded exactly once: redelivered events, a consumer killed mid-batch, replicas."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tangible_devstack.processes import free_port, spawn, terminate
from tangible_devstack.testing import eventually
from tangible_runtime.settings import KafkaSettings
from tangible_schemas.rewards import MilestoneReached, RewardGranted

pytestmark = pytest.mark.integration

ACCOUNT = "acct-once"
RULE = {
    "key": "fifty-reports",
    "name": "Fifty reports",
    "kind": "usage_threshold",
    "params": {"usage_type": "report.generated", "target": 50},
    "reward": {"kind": "credits", "credits": "25.00"},
}
WAITING_ON_REWARDS = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO rewards%'
"""


def consumer_process(rewards_url: str, kafka_settings: KafkaSettings, log: Path) -> Any:
    env = {
        **os.environ,
        "REWARDS_DATABASE_URL": rewards_url,
        "REWARDS_PORT": str(free_port()),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": kafka_settings.topic_prefix,
        "LOG_LEVEL": "WARNING",
    }
    return spawn([sys.executable, "-m", "tangible_rewards", "consumer"], log_path=log, env=env)


async def test_redelivered_events_and_a_consumer_killed_mid_batch_reward_once(
    launch: Any,
    rewards_url: str,
    kafka_settings: KafkaSettings,
    kafka: Any,
    db: Any,
    admin: dict[str, str],
    make_usage: Any,
    tmp_path: Path,
) -> None:
    api = await launch(roles=("api",))
    assert (await api.post("/v1/milestones", json=RULE, headers=admin)).status_code == 201
    events = [make_usage(ACCOUNT) for _ in range(60)]
    ids = await kafka.send(events)
    await kafka.send(events[:20], ids=ids[:20])  # the producer delivered these twice

    blocker_engine = create_async_engine(rewards_url)
    process = None
    try:
        async with blocker_engine.connect() as blocker:
            # hold the rewards table: the batch that reaches 50 stops inside its transaction
            await blocker.execute(text("LOCK TABLE rewards IN EXCLUSIVE MODE"))
            process = consumer_process(rewards_url, kafka_settings, tmp_path / "consumer.log")

            async def blocked_mid_batch() -> None:
                assert process is not None and process.poll() is None, (tmp_path / "consumer.log").read_text()
                assert await db.scalar(WAITING_ON_REWARDS) == 1

            await eventually(blocked_mid_batch, timeout=60)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            await blocker.rollback()
    finally:
        if process is not None:
            terminate(process)
        await blocker_engine.dispose()

    assert await db.scalar("SELECT count(*) FROM rewards") == 0, "nothing of the killed batch committed"

    # two replicas take over the group; offsets of the killed batch were never committed
    await launch(roles=("consumer", "relay"))
    await launch(roles=("consumer", "relay"))

    async def rewarded_once() -> None:
        assert await db.scalar("SELECT value FROM progress WHERE account_id = :a", a=ACCOUNT) == 60
        assert await db.scalar("SELECT count(*) FROM rewards WHERE account_id = :a", a=ACCOUNT) == 1
        assert await db.scalar("SELECT balance FROM account_balances WHERE account_id = :a", a=ACCOUNT) == 25

    await eventually(rewarded_once, timeout=90)

    # the whole stream once more (e.g. a replay after an offset reset): nothing moves
    await kafka.send(events, ids=ids)
    await kafka.send([make_usage(ACCOUNT)])  # a sentinel: once counted, the replay was handled

    async def replay_handled() -> None:
        assert await db.scalar("SELECT value FROM progress WHERE account_id = :a", a=ACCOUNT) == 61

    await eventually(replay_handled, timeout=60)
    await asyncio.sleep(0.5)
    assert await db.scalar("SELECT count(*) FROM rewards WHERE account_id = :a", a=ACCOUNT) == 1
    assert await db.scalar("SELECT count(*) FROM ledger_transactions WHERE account_id = :a", a=ACCOUNT) == 1

    async def one_of_each_event() -> None:
        assert len(await kafka.rewards_events(RewardGranted.event_type)) == 1
        assert len(await kafka.rewards_events(MilestoneReached.event_type)) == 1

    await eventually(one_of_each_event, timeout=30)
    [granted] = await kafka.rewards_events(RewardGranted.event_type)
    assert isinstance(granted, RewardGranted)
    assert (granted.kind, granted.credits, granted.rule_key, granted.period_key) == (
        "credits",
        Decimal(25),
        "fifty-reports",
        "lifetime",
    )
