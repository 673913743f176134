"""What the overload run reads from the system: Prometheus counters, consumer-group lag, the
usage topic's size, entitlements' counters, and the Helm chart's memory limits."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import yaml  # type: ignore[import-untyped]
from aiokafka import TopicPartition
from aiokafka.errors import GroupCoordinatorNotAvailableError
from prometheus_client.parser import text_string_to_metric_families

from tangible_runtime.kafka import KafkaClients
from tangible_schemas.registry import TOPICS, USAGE

VALUES = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "tangible" / "values.yaml"
HELM_SERVICE = {
    "usage-ingest": "usageIngest",
    "entitlements": "entitlements",
    "rewards": "rewards",
    "notifications": "notifications",
}
_UNITS = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}


def memory_limit_mib(service: str, role: str) -> float:
    """The role's `resources.limits.memory` in the chart's values.yaml, MiB."""
    values = yaml.safe_load(VALUES.read_text())
    limit = str(values["services"][HELM_SERVICE[service]]["roles"][role]["resources"]["limits"]["memory"])
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", limit)
    if match is None:
        raise ValueError(f"unreadable memory limit {limit!r} of {service} {role}")
    return int(match.group(1)) * _UNITS[match.group(2)]


async def metric(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    """The sum of `name`'s samples with these labels on the service's /metrics."""
    text = (await client.get("/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


async def usage_records(clients: KafkaClients) -> int:
    """Records on the usage topic: ingest publishes one per event it accepted, so any
    duplicate publish would show as more records than events."""
    name = clients.topic(USAGE.name)
    [partitions] = (await clients.partitions([USAGE.name])).values()
    consumer = clients.consumer(group=None)
    await consumer.start()
    try:
        return sum((await consumer.end_offsets([TopicPartition(name, p) for p in partitions])).values())
    finally:
        await consumer.stop()


async def group_lags(clients: KafkaClients) -> dict[str, int]:
    """Records not yet committed, per consumer group of the run (its topic prefix)."""
    admin = clients.admin()
    consumer = clients.consumer(group=None)
    await admin.start()
    await consumer.start()
    try:
        prefix = clients.settings.topic_prefix
        groups = [g[0] for g in await admin.list_consumer_groups() if g[0].startswith(prefix)]
        topics = {clients.topic(t.name) for t in TOPICS}
        lags: dict[str, int] = {}
        for group in sorted(groups):
            try:
                offsets = await admin.list_consumer_group_offsets(group)
            except GroupCoordinatorNotAvailableError:
                continue
            mine = {tp: meta.offset for tp, meta in offsets.items() if tp.topic in topics}
            if not mine:
                continue
            ends = await consumer.end_offsets(list(mine))
            lags[group] = sum(max(ends[tp] - max(offset, 0), 0) for tp, offset in mine.items())
        return lags
    finally:
        await consumer.stop()
        await admin.close()


async def counted_usage(base: str, token: str, accounts: int, feature: str) -> float:
    """Usage of `feature` summed over acct-0…: what entitlements counted."""
    semaphore = asyncio.Semaphore(16)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as c:

        async def one(i: int) -> float:
            async with semaphore:
                response = await c.get(f"/v1/accounts/acct-{i}/entitlements/{feature}")
                response.raise_for_status()
                body: dict[str, Any] = response.json()
                return float(body["usage"])

        return sum(await asyncio.gather(*(one(i) for i in range(accounts))))
