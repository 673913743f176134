"""Create the Kafka topics listed in TANGIBLE_TOPICS that do not exist yet.

The chart's topics hook Job runs this with `python -c` in the Tangible image, so it connects
with the services' own `KafkaSettings` (KAFKA_* variables: SASL, TLS, CA file) and needs no
other image. TANGIBLE_TOPICS is a JSON list of {"name", "partitions", "config"} with physical
(prefixed) names; TANGIBLE_REPLICATION_FACTOR applies to new topics.

Existing topics are never altered: Kafka cannot shrink a topic, and adding partitions re-maps
keys to partitions, which would break per-account ordering. A differing partition count is
reported so that an operator can decide.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

TOPIC_ALREADY_EXISTS = 36


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def parse_topics(raw: str) -> list[TopicSpec]:
    """TANGIBLE_TOPICS → specs; configs become strings as Kafka expects."""
    return [
        TopicSpec(
            name=str(item["name"]),
            partitions=int(item["partitions"]),
            config={str(k): str(v) for k, v in (item.get("config") or {}).items()},
        )
        for item in json.loads(raw)
    ]


def plan(wanted: list[TopicSpec], existing: dict[str, int]) -> tuple[list[TopicSpec], list[str]]:
    """Topics to create, and warnings about existing topics whose partition count differs."""
    missing = [t for t in wanted if t.name not in existing]
    warnings = [
        f"topic {t.name} has {existing[t.name]} partitions, values say {t.partitions}: left unchanged"
        for t in wanted
        if t.name in existing and existing[t.name] != t.partitions
    ]
    return missing, warnings


async def provision(wanted: list[TopicSpec], replication_factor: int) -> int:
    from aiokafka.admin import NewTopic
    from aiokafka.errors import for_code

    from tangible_runtime.kafka import KafkaClients
    from tangible_runtime.settings import KafkaSettings

    clients = KafkaClients(KafkaSettings())
    await clients.wait_until_reachable(timeout=120.0)
    admin = clients.admin()
    await admin.start()
    try:
        # Describe only topics that exist: a metadata request naming a missing topic could
        # auto-create it with broker defaults on clusters that allow that.
        present = set(await admin.list_topics()) & {t.name for t in wanted}
        described: list[dict[str, Any]] = await admin.describe_topics(sorted(present)) if present else []
        existing = {d["topic"]: len(d["partitions"]) for d in described if d.get("error_code", 0) == 0}
        missing, warnings = plan(wanted, existing)
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if not missing:
            print(f"all {len(wanted)} topics exist")
            return 0
        response = await admin.create_topics(
            [NewTopic(t.name, t.partitions, replication_factor, topic_configs=t.config) for t in missing]
        )
        failed = 0
        for entry in response.topic_errors:
            name, code = entry[0], entry[1]
            if code in (0, TOPIC_ALREADY_EXISTS):
                print(f"created {name}" if code == 0 else f"exists {name}")
            else:
                failed += 1
                print(f"error: {name}: {for_code(code).__name__} {entry[2:]}", file=sys.stderr)
        return 1 if failed else 0
    finally:
        await admin.close()


def main() -> int:
    wanted = parse_topics(os.environ["TANGIBLE_TOPICS"])
    replication_factor = int(os.environ.get("TANGIBLE_REPLICATION_FACTOR", "3"))
    return asyncio.run(provision(wanted, replication_factor))


if __name__ == "__main__":
    sys.exit(main())
