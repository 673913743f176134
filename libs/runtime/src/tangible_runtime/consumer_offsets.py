"""Consumer-group positions for a database restore (docs/runbook.md, "Restore a service's
database").

A service commits its Kafka offsets only after the database transaction of a batch (see
`consumer.py`). A database restored from a backup is therefore *behind* the committed
offsets: started as is, the service would skip every event it handled between the backup
and the loss. Before it starts again, its groups go back to a position at or before the
backup, and the inbox restored with the database drops what the backup already holds:

- `save` (right before the backup starts) records each group's committed offsets. Every
  offset committed then belongs to a batch whose transaction had committed, so the backup,
  taken after, holds all of it: restoring exactly these offsets loses nothing.
- `restore --from FILE` commits those offsets again; `restore --to-datetime T` (a backup
  taken without `save`, e.g. a managed database's snapshot) commits each partition's first
  offset whose record is at or after T: choose T before the backup's start by more than the
  largest consumer lag there may have been (the inbox drops the overlap).

The groups must have no live member (the service's consumer role stopped): a running
consumer would overwrite the commit with its own position.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from tangible_runtime.errors import is_transient
from tangible_runtime.kafka import KAFKA_WAIT_BACKOFF, KafkaClients
from tangible_runtime.retries import retrying
from tangible_runtime.settings import KafkaSettings
from tangible_schemas.consumers import CONSUMER_GROUPS

T = TypeVar("T")

# group → logical topic → partition → offset (the next record the group reads)
Offsets = dict[str, dict[str, dict[int, int]]]
Groups = Mapping[str, Sequence[str]]  # consumer group → the logical topics it reads


def groups_of(service: str) -> dict[str, list[str]]:
    """The service's consumer groups and the logical topics each reads."""
    return {g.name: [t.name for t in g.topics] for g in CONSUMER_GROUPS if g.service == service}


class GroupStillActiveError(RuntimeError):
    """A group to reset still has members: its service's consumers are running."""


def _retriable(error: Exception) -> bool:
    # e.g. GroupCoordinatorNotAvailable while a broker (re)starts or before its first group
    return is_transient(error) or (isinstance(error, KafkaError) and error.retriable)


async def _patiently(operation: Callable[[], Awaitable[T]]) -> T:
    return await retrying(
        operation,
        backoff=KAFKA_WAIT_BACKOFF,
        log_event="consumer_offsets_retrying",
        retry_if=_retriable,
        within_seconds=120.0,
    )


async def _partitions(clients: KafkaClients, groups: Groups) -> dict[str, list[TopicPartition]]:
    topics = sorted({t for group_topics in groups.values() for t in group_topics})
    found = await clients.partitions(topics)
    return {t: [TopicPartition(clients.topic(t), p) for p in found[t]] for t in topics}


def _lookup_consumer(clients: KafkaClients) -> AIOKafkaConsumer:
    """A consumer of no group: it only asks the broker for offsets."""
    return AIOKafkaConsumer(**clients.common_config(), enable_auto_commit=False)


async def committed(clients: KafkaClients, groups: Groups) -> Offsets:
    """Each group's committed offsets; a partition it never committed counts as its first
    offset, where the group would start (`auto_offset_reset=earliest`)."""
    return await _patiently(lambda: _committed(clients, groups))


async def _committed(clients: KafkaClients, groups: Groups) -> Offsets:
    by_topic = await _partitions(clients, groups)
    consumer = _lookup_consumer(clients)
    await consumer.start()
    admin = clients.admin()
    await admin.start()
    try:
        beginnings = await consumer.beginning_offsets([tp for tps in by_topic.values() for tp in tps])
        result: Offsets = {}
        for group, topics in groups.items():
            stored = await admin.list_consumer_group_offsets(clients.group(group))
            result[group] = {
                topic: {
                    tp.partition: (
                        stored[tp].offset if tp in stored and stored[tp].offset >= 0 else beginnings[tp]
                    )
                    for tp in by_topic[topic]
                }
                for topic in topics
            }
        return result
    finally:
        await admin.close()
        await consumer.stop()


async def at_time(clients: KafkaClients, groups: Groups, when: datetime) -> Offsets:
    """Each partition's first offset whose record's timestamp is at or after `when` (its
    end when none is); the same for every group reading the topic."""
    return await _patiently(lambda: _at_time(clients, groups, when))


async def _at_time(clients: KafkaClients, groups: Groups, when: datetime) -> Offsets:
    by_topic = await _partitions(clients, groups)
    consumer = _lookup_consumer(clients)
    await consumer.start()
    try:
        everything = [tp for tps in by_topic.values() for tp in tps]
        found = await consumer.offsets_for_times({tp: int(when.timestamp() * 1000) for tp in everything})
        ends = await consumer.end_offsets(everything)
        offsets = {tp: (found[tp].offset if found.get(tp) is not None else ends[tp]) for tp in everything}
    finally:
        await consumer.stop()
    return {
        group: {topic: {tp.partition: offsets[tp] for tp in by_topic[topic]} for topic in topics}
        for group, topics in groups.items()
    }


async def expired(clients: KafkaClients, offsets: Offsets) -> list[str]:
    """Positions older than what the topics still keep: the records from there to the log's
    start are gone (retention), so a catch-up from them could not be exact."""
    return await _patiently(partial(_expired, clients, offsets))


async def _expired(clients: KafkaClients, offsets: Offsets) -> list[str]:
    wanted = {
        (group, topic, partition, offset): TopicPartition(clients.topic(topic), partition)
        for group, topics in offsets.items()
        for topic, partitions in topics.items()
        for partition, offset in partitions.items()
    }
    consumer = _lookup_consumer(clients)
    await consumer.start()
    try:
        starts = await consumer.beginning_offsets(sorted(set(wanted.values())))
    finally:
        await consumer.stop()
    return [
        f"{group} {topic}[{partition}]: {offset} < {starts[tp]}"
        for (group, topic, partition, offset), tp in wanted.items()
        if offset < starts[tp]
    ]


async def _members(clients: KafkaClients, group: str) -> int:
    admin = clients.admin()
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([clients.group(group)])
    finally:
        await admin.close()
    # DescribeGroups v0+: (error_code, group_id, state, protocol_type, protocol, members, ...)
    return sum(len(described[5]) for response in responses for described in response.groups)


async def reset(clients: KafkaClients, offsets: Offsets) -> None:
    """Commit `offsets` for their groups, which must have no live member."""
    for group in offsets:
        if members := await _patiently(partial(_members, clients, group)):
            raise GroupStillActiveError(
                f"consumer group {clients.group(group)} has {members} live member(s): "
                "stop the service's consumer role first"
            )
    for group, topics in offsets.items():
        positions = {
            TopicPartition(clients.topic(topic), partition): offset
            for topic, partitions in topics.items()
            for partition, offset in partitions.items()
        }
        await _patiently(partial(_commit, clients, group, positions))


async def _commit(clients: KafkaClients, group: str, positions: dict[TopicPartition, int]) -> None:
    consumer = AIOKafkaConsumer(
        **clients.common_config(), group_id=clients.group(group), enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(positions))
        await consumer.commit(positions)  # manual assignment: committed outside any generation
    finally:
        await consumer.stop()


def dump(offsets: Offsets, taken_at: datetime) -> str:
    return json.dumps({"taken_at": taken_at.isoformat(), "groups": offsets}, indent=2, sort_keys=True)


def load(text: str) -> Offsets:
    raw: dict[str, Any] = json.loads(text)["groups"]
    return {
        group: {
            topic: {int(p): int(o) for p, o in partitions.items()} for topic, partitions in topics.items()
        }
        for group, topics in raw.items()
    }


def _datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r}: give a time zone, e.g. 2026-12-06T21:00:00Z")
    return parsed


async def run(argv: Sequence[str], *, prog: str, kafka: KafkaSettings, groups: Groups) -> int:
    """`<prog> consumer-offsets save --out FILE | restore (--from FILE | --to-datetime T) | show`."""
    parser = argparse.ArgumentParser(prog=f"{prog} consumer-offsets", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    save = commands.add_parser("save", help="record the committed offsets (run right before a backup)")
    save.add_argument("--out", type=Path, required=True, help="JSON file to write")
    restore = commands.add_parser("restore", help="commit a backup's position (consumers stopped)")
    source = restore.add_mutually_exclusive_group(required=True)
    source.add_argument("--from", dest="source", metavar="FILE", type=Path, help="a file `save` wrote")
    source.add_argument(
        "--to-datetime", metavar="TIME", type=_datetime, help="ISO time before the backup started"
    )
    commands.add_parser("show", help="print the committed offsets")
    args = parser.parse_args(list(argv))
    clients = KafkaClients(kafka)
    if args.command == "save":
        taken_at = datetime.now(UTC)
        args.out.write_text(dump(await committed(clients, groups), taken_at) + "\n")
        print(f"saved the offsets of {', '.join(groups)} to {args.out}")
        return 0
    if args.command == "show":
        print(dump(await committed(clients, groups), datetime.now(UTC)))
        return 0
    offsets = (
        load(args.source.read_text()) if args.source else await at_time(clients, groups, args.to_datetime)
    )
    unknown = sorted(set(offsets) - set(groups))
    if unknown:
        print(f"{prog}: not this service's consumer groups: {', '.join(unknown)}", file=sys.stderr)
        return 2
    if gone := await expired(clients, offsets):
        print(
            f"{prog}: the topics no longer hold the records from the backup's position "
            f"(retention; see docs/runbook.md): {'; '.join(gone)}",
            file=sys.stderr,
        )
        return 1
    try:
        await reset(clients, offsets)
    except GroupStillActiveError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 1
    print(f"reset {', '.join(offsets)}: {json.dumps(offsets, sort_keys=True)}")
    return 0


def main(argv: Sequence[str], *, prog: str, kafka: KafkaSettings, groups: Groups) -> None:
    raise SystemExit(asyncio.run(run(argv, prog=prog, kafka=kafka, groups=groups)))
