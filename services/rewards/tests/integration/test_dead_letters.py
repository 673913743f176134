"""Rewards' dead letters: a record the usage consumer could not apply is listed with its
reason and, once the cause is fixed, replayed — applied exactly once however often the
selection is replayed (the consumer's inbox skips an event it has already applied)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog

from tangible_devstack.testing import eventually
from tangible_rewards.entrypoints.consumers import USAGE_CONSUMER

pytestmark = pytest.mark.integration

DLQ = f"/v1/dead-letters/{USAGE_CONSUMER}"
BROKEN, HEALTHY = "acct-broken", "acct-healthy"
RULE = {
    "key": "three-reports",
    "name": "Three reports",
    "kind": "usage_threshold",
    "params": {"usage_type": "report.generated", "target": 3},
    "reward": {"kind": "credits", "credits": "25.00"},
}
# the cause of the failure: a constraint the broken account's progress cannot meet, as a
# schema change gone wrong would be (a data error, not an outage: dead-lettered after retries)
BREAK = f"ALTER TABLE progress ADD CONSTRAINT dlq_test_broken CHECK (account_id <> '{BROKEN}')"
FIX = "ALTER TABLE progress DROP CONSTRAINT dlq_test_broken"


@pytest.fixture(autouse=True)
def plain_tracebacks() -> Iterator[None]:
    """Each of the ~20 failed attempts logs its traceback; structlog's default renders it with
    rich and every frame's locals (SQLAlchemy's are large): seconds apiece on a loaded machine.
    Plain tracebacks for this test; the previous configuration after it."""
    saved = structlog.get_config()
    plain = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    structlog.configure(
        processors=[plain if isinstance(p, structlog.dev.ConsoleRenderer) else p for p in saved["processors"]]
    )
    yield
    structlog.configure(**saved)


async def test_a_replayed_selection_changes_rewards_state_exactly_once_however_often_it_is_replayed(
    rewards: httpx.AsyncClient, kafka: Any, db: Any, admin: dict[str, str], make_usage: Any
) -> None:
    assert (await rewards.post("/v1/milestones", json=RULE, headers=admin)).status_code == 201
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql(BREAK)
    await kafka.send([make_usage(BROKEN) for _ in range(3)] + [make_usage(HEALTHY)])

    async def dead_lettered() -> list[dict[str, Any]]:
        page = (await rewards.get(DLQ, headers=admin)).json()
        assert len(page["items"]) == 3, page
        return list(page["items"])

    items = await eventually(dead_lettered, timeout=60)
    assert {i["reason"] for i in items} == {"handler_failed"}
    assert {i["source_topic"] for i in items} == {"tangible.usage.v1"}
    metrics = (await rewards.get("/metrics")).text
    assert f'dead_letters_total{{consumer="{USAGE_CONSUMER}",reason="handler_failed"}} 3.0' in metrics

    async def healthy_applied() -> None:  # the rest of the batch went through
        assert await db.scalar("SELECT value FROM progress WHERE account_id = :a", a=HEALTHY) == 1

    await eventually(healthy_applied)
    assert await db.scalar("SELECT count(*) FROM progress WHERE account_id = :a", a=BROKEN) == 0

    # the cause is fixed; then the selection is replayed, twice
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql(FIX)
    first = await rewards.post(f"{DLQ}/replay", json={"reason": "handler_failed"}, headers=admin)
    assert first.status_code == 200 and sorted(first.json()["replayed"]) == sorted(i["id"] for i in items)

    async def rewarded_once(progress: int) -> None:
        assert await db.scalar("SELECT value FROM progress WHERE account_id = :a", a=BROKEN) == progress
        assert await db.scalar("SELECT count(*) FROM rewards WHERE account_id = :a", a=BROKEN) == 1
        assert await db.scalar("SELECT balance FROM account_balances WHERE account_id = :a", a=BROKEN) == 25

    await eventually(lambda: rewarded_once(3), timeout=30)
    second = await rewards.post(f"{DLQ}/replay", json={"ids": [i["id"] for i in items]}, headers=admin)
    assert second.status_code == 200 and len(second.json()["replayed"]) == 3
    # a record produced after the second replay, on the same partition (same key), is
    # consumed after it: once it counts, the replay has been consumed, and changed nothing
    await kafka.send([make_usage(BROKEN)])
    await eventually(lambda: rewarded_once(4), timeout=30)
    assert await db.scalar("SELECT count(*) FROM ledger_transactions WHERE account_id = :a", a=BROKEN) == 1
    assert len(await dead_lettered()) == 3  # a replay does not dead-letter anew
