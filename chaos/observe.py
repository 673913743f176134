"""What the services say: their APIs, their databases (read directly, past the proxy) and
Kafka (group offsets against end offsets; the dead-letter topics read from the start)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.engine import make_url

from chaos.invariants import Observed
from chaos.receiver import WebhookReceiver
from chaos.stack import ChaosStack
from chaos.tenant import FEATURES
from tangible_devstack.scenario import bearer

# consumer group → the topics it follows
GROUPS: dict[str, tuple[str, ...]] = {
    "entitlements-usage": ("tangible.usage.v1",),
    "entitlements-rewards": ("tangible.rewards.v1",),
    "rewards-usage": ("tangible.usage.v1",),
    "rewards-entitlements": ("tangible.entitlements.v1",),
    "notifications-events": ("tangible.entitlements.v1", "tangible.rewards.v1"),
}
HISTORY = timedelta(days=62)  # the usage report's window: covers the run's week of usage
USAGE_CONSUMERS = {"entitlements": "entitlements-usage", "rewards": "rewards-usage"}
OUTBOXES = ("entitlements", "rewards", "notifications")
TYPE_OF_FEATURE = {key: f["meter"]["event_type"] for key, f in FEATURES.items()}

_LEDGER_BREACHES = """
SELECT 'transaction ' || transaction_id || ' sums to ' || sum(amount)
  FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0
UNION ALL
SELECT 'balance ' || b.account_id || ' ' || b.balance || ' but entries sum to ' || coalesce(e.total, 0)
  FROM account_balances b
  LEFT JOIN (SELECT tenant_id, account_id, unit, sum(amount) AS total FROM ledger_entries
              WHERE ledger_account = 'account_balance' GROUP BY 1, 2, 3) e USING (tenant_id, account_id, unit)
 WHERE b.balance <> coalesce(e.total, 0)
UNION ALL
SELECT 'bucket ' || c.id || ' remaining ' || c.remaining || ' but entries sum to ' || coalesce(e.total, 0)
  FROM credit_buckets c
  LEFT JOIN (SELECT bucket_id, sum(amount) AS total FROM ledger_entries
              WHERE ledger_account = 'account_balance' GROUP BY 1) e ON e.bucket_id = c.id
 WHERE c.remaining <> coalesce(e.total, 0)
"""


async def _connect(stack: ChaosStack, service: str) -> asyncpg.Connection:
    url = make_url(stack.database_urls[service]).set(drivername="postgresql")
    return await asyncpg.connect(url.render_as_string(hide_password=False))


async def _fetch(stack: ChaosStack, service: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await _connect(stack, service)
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


async def _partitions(admin: AIOKafkaAdminClient, topics: list[str]) -> list[TopicPartition]:
    """From the broker, not a client's cache (a fresh client knows no topic yet)."""
    described = await admin.describe_topics(topics)
    return sorted(TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"])


async def consumer_lag(stack: ChaosStack) -> dict[str, int]:
    """Records behind per group: end offsets minus committed offsets over every partition."""
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, enable_auto_commit=False)
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await consumer.start()
    await admin.start()
    try:
        lag: dict[str, int] = {}
        for group, topics in GROUPS.items():
            partitions = await _partitions(admin, list(topics))
            if not partitions:
                raise RuntimeError(f"no partitions found for {topics}")
            ends = await consumer.end_offsets(partitions)
            committed = await admin.list_consumer_group_offsets(group)
            lag[group] = sum(
                max(0, ends[tp] - (committed[tp].offset if tp in committed else 0)) for tp in partitions
            )
        return lag
    finally:
        await admin.close()
        await consumer.stop()


async def backlog(stack: ChaosStack) -> tuple[dict[str, int], int]:
    """Outbox rows per service, and deliveries (and notifications) not yet settled."""
    outbox = {s: int((await _fetch(stack, s, "SELECT count(*) FROM outbox"))[0][0]) for s in OUTBOXES}
    unsettled = await _fetch(
        stack,
        "notifications",
        "SELECT (SELECT count(*) FROM deliveries WHERE status NOT IN ('succeeded', 'failed'))"
        " + (SELECT count(*) FROM notifications WHERE status = 'composing')",
    )
    return outbox, int(unsettled[0][0])


async def dead_letters(stack: ChaosStack) -> dict[str, list[tuple[str, str]]]:
    return await read_topics(stack, lambda topic: topic.startswith("tangible.dlq."))


async def read_topics(stack: ChaosStack, wanted: Callable[[str], bool]) -> dict[str, list[tuple[str, str]]]:
    """Every record of the matching topics, from the start: (ce_id, dlq_reason) each."""
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, enable_auto_commit=False)
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await consumer.start()
    await admin.start()
    try:
        topics = sorted(t for t in await admin.list_topics() if wanted(t))
        found: dict[str, list[tuple[str, str]]] = {t: [] for t in topics}
        partitions = await _partitions(admin, topics) if topics else []
        if not partitions:
            return found
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, records in batches.items():
                for record in records:
                    headers = {k: v.decode(errors="replace") for k, v in record.headers}
                    found[tp.topic].append((headers.get("ce_id", "?"), headers.get("dlq_reason", "?")))
                    if record.offset + 1 >= ends[tp]:
                        remaining.discard(tp)
        return found
    finally:
        await admin.close()
        await consumer.stop()


async def _api_reads(
    stack: ChaosStack, accounts: list[str]
) -> tuple[dict[str, dict[str, float]], dict[str, Decimal]]:
    reader = stack.token("read")
    today = datetime.now(UTC).date()
    usage: dict[str, dict[str, float]] = {}
    balances: dict[str, Decimal] = {}
    semaphore = asyncio.Semaphore(8)
    async with (
        httpx.AsyncClient(base_url=stack.url("entitlements"), headers=bearer(reader), timeout=30) as ent,
        httpx.AsyncClient(base_url=stack.url("rewards"), headers=bearer(reader), timeout=30) as rew,
    ):

        async def read(account: str) -> None:
            async with semaphore:
                params = {
                    "from": str(today - HISTORY),
                    "to": str(today + timedelta(days=2)),
                    "granularity": "month",
                }
                report = await ent.get(f"/v1/accounts/{account}/usage", params=params)
                report.raise_for_status()
                usage[account] = {
                    TYPE_OF_FEATURE[f["feature_key"]]: float(f["total"])
                    for f in report.json()["features"]
                    if f["feature_key"] in TYPE_OF_FEATURE and float(f["total"])
                }
                balance = await rew.get(f"/v1/accounts/{account}/balance")
                balance.raise_for_status()
                if Decimal(balance.json()["total"]):
                    balances[account] = Decimal(balance.json()["total"])

        await asyncio.gather(*(read(a) for a in accounts))
    return {a: t for a, t in usage.items() if t}, balances


async def observe(
    stack: ChaosStack,
    receiver: WebhookReceiver,
    *,
    accounts: list[str],
    rule_keys: dict[str, str],
) -> Observed:
    tenant = stack.tenant_id
    usage_api, balances = await _api_reads(stack, accounts)
    usage_db: dict[str, dict[str, float]] = defaultdict(dict)
    for row in await _fetch(
        stack,
        "entitlements",
        "SELECT account_id, feature_key, sum(value) FROM usage_counters WHERE tenant_id = $1 GROUP BY 1, 2",
        tenant,
    ):
        usage_db[row[0]][TYPE_OF_FEATURE[row[1]]] = float(row[2])
    consumed = {
        consumer: {
            r[0]
            for r in await _fetch(stack, service, "SELECT event_id FROM inbox WHERE consumer = $1", consumer)
        }
        for service, consumer in USAGE_CONSUMERS.items()
    }
    rewards = [
        (r[0], r[1])
        for r in await _fetch(
            stack, "rewards", "SELECT account_id, rule_key FROM rewards WHERE tenant_id = $1", tenant
        )
    ]
    breaches = [r[0] for r in await _fetch(stack, "rewards", _LEDGER_BREACHES)]
    marks = {
        r[0]: int(r[1])
        for r in await _fetch(
            stack,
            "entitlements",
            "SELECT account_id, count(*) FROM threshold_marks WHERE tenant_id = $1 GROUP BY 1",
            tenant,
        )
    }
    notifications = [
        (r[0], rule_keys.get(r[1], r[1]), r[2], r[3])
        for r in await _fetch(
            stack,
            "notifications",
            "SELECT account_id, rule_id, channel, source_event_id FROM notifications WHERE tenant_id = $1",
            tenant,
        )
    ]
    repeated = await _fetch(
        stack,
        "notifications",
        "SELECT count(*) FROM (SELECT 1 FROM notifications GROUP BY tenant_id, source_event_id, rule_id,"
        " recipient, channel HAVING count(*) > 1) repeated",
    )
    deliveries = {
        r[0]: r[1]
        for r in await _fetch(
            stack, "notifications", "SELECT id, status FROM deliveries WHERE channel = 'webhook'"
        )
    }
    successes = {
        r[0]: int(r[1])
        for r in await _fetch(
            stack,
            "notifications",
            "SELECT delivery_id, count(*) FROM delivery_attempts WHERE outcome = 'succeeded' GROUP BY 1",
        )
    }
    outbox, unsettled = await backlog(stack)
    return Observed(
        usage_api=usage_api,
        usage_db=dict(usage_db),
        consumed_ids=consumed,
        rewards=rewards,
        balances=balances,
        ledger_breaches=breaches,
        threshold_marks=marks,
        notifications=notifications,
        notification_keys_repeated=int(repeated[0][0]),
        webhook_deliveries=deliveries,
        acknowledged=dict(receiver.acknowledged),
        recorded_successes=successes,
        bad_signatures=receiver.bad_signatures,
        dead_letters=await dead_letters(stack),
        usage_topic_ids={
            e
            for e, _ in (await read_topics(stack, lambda t: t == "tangible.usage.v1")).get(
                "tangible.usage.v1", []
            )
        },
        lag=await consumer_lag(stack),
        outbox=outbox,
        unsettled_deliveries=unsettled,
    )
