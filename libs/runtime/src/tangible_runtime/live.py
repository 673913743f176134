"""Live events for one account, straight from Kafka: the server-sent-events stream behind the
customer-facing components.

One consumer per process (no group: every replica sees every record) follows the topics
from their end and hands each record to the streams open for its `tenant/account` key. A
stream's event id is its position in the log: for each followed topic, the partition of the
account's key and the next offset. A client that reconnects with `Last-Event-ID` — to this
process or, after a restart, to another — gets what it missed read back from Kafka between
that position and the live follower's, then the live events, each exactly once (a stream
drops anything below its position). Nothing polls a database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from tangible_runtime.kafka import KafkaClients
from tangible_runtime.logs import get_logger
from tangible_schemas.binding import parse_record_key, record_key

log = get_logger(__name__)

QUEUE_LIMIT = 1_000  # a stream this far behind is closed; its client resumes from Kafka
_partitioner = DefaultPartitioner()


@dataclass(frozen=True, slots=True)
class LiveRecord:
    topic: str  # logical name (no prefix)
    partition: int
    offset: int
    tenant_id: str
    account_id: str
    headers: tuple[tuple[str, bytes], ...]
    value: bytes | None
    # what the streams derive from the record whatever their credential (the decoded event,
    # its encoded frame): derived by the first stream, reused by the account's other ones
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


Position = dict[str, tuple[int, int]]  # topic → (partition of the account's key, next offset)


def encode_position(topics: Iterable[str], position: Position) -> str:
    """`<partition>-<offset>` per topic, in the hub's topic order, joined by `.`."""
    return ".".join(f"{position[t][0]}-{position[t][1]}" for t in topics)


def decode_position(topics: list[str], text: str | None) -> Position | None:
    """None when the text is not a position of these topics (the stream starts live)."""
    if not text:
        return None
    parts = text.strip().split(".")
    if len(parts) != len(topics):
        return None
    position: Position = {}
    for topic, part in zip(topics, parts, strict=True):
        partition, _, offset = part.partition("-")
        if not (partition.isdigit() and offset.isdigit()) or len(part) > 40:
            return None
        position[topic] = (int(partition), int(offset))
    return position


@dataclass(eq=False)  # identity: a stream is itself, however alike two are
class Subscription:
    tenant_id: str
    account_id: str
    queue: asyncio.Queue[LiveRecord] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    overflowed: bool = False

    def offer(self, record: LiveRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except asyncio.QueueFull:
            self.overflowed = True


class LiveHub:
    def __init__(self, clients: KafkaClients, topics: list[str]) -> None:
        self._clients = clients
        self.topics = topics
        self._partitions: dict[str, list[int]] = {}
        self._next: dict[tuple[str, int], int] = {}  # what the live follower reads next
        self._streams: dict[tuple[str, str], set[Subscription]] = defaultdict(set)
        self.ready = asyncio.Event()

    @property
    def open_streams(self) -> int:
        return sum(len(s) for s in self._streams.values())

    def partition_of(self, topic: str, tenant_id: str, account_id: str) -> int:
        partitions = self._partitions[topic]
        return int(_partitioner(record_key(tenant_id, account_id), partitions, partitions))

    def live_position(self, tenant_id: str, account_id: str) -> Position:
        """Where the live follower is for this account's partitions: a new stream starts here."""
        position: Position = {}
        for topic in self.topics:
            partition = self.partition_of(topic, tenant_id, account_id)
            position[topic] = (partition, self._next.get((topic, partition), 0))
        return position

    @contextlib.contextmanager
    def subscribe(self, tenant_id: str, account_id: str) -> Iterator[Subscription]:
        subscription = Subscription(tenant_id, account_id)
        self._streams[(tenant_id, account_id)].add(subscription)
        try:
            yield subscription
        finally:
            streams = self._streams[(tenant_id, account_id)]
            streams.discard(subscription)
            if not streams:
                del self._streams[(tenant_id, account_id)]

    async def run(self) -> None:
        """The live follower: from the end of every topic, forever."""
        # every partition, as the producers' partitioner sees them: a stream's position and
        # the records the follower hands it are of its account's partition
        self._partitions = await self._clients.partitions(self.topics)
        consumer = self._clients.consumer(group=None)
        await consumer.start()
        try:
            assignment = [
                TopicPartition(self._clients.topic(topic), p)
                for topic in self.topics
                for p in self._partitions[topic]
            ]
            consumer.assign(assignment)
            await consumer.seek_to_end(*assignment)
            for tp in assignment:
                self._next[(self._clients.logical_topic(tp.topic), tp.partition)] = await consumer.position(
                    tp
                )
            self.ready.set()
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=2_000)
                for tp, records in batches.items():
                    topic = self._clients.logical_topic(tp.topic)
                    for record in records:
                        self._next[(topic, tp.partition)] = record.offset + 1
                        self._dispatch(topic, tp.partition, record)
        finally:
            await consumer.stop()

    def _dispatch(self, topic: str, partition: int, record: object) -> None:
        key = getattr(record, "key", None)
        if not key or not self._streams:
            return
        try:
            tenant_id, account_id = parse_record_key(key)
        except ValueError:
            return
        streams = self._streams.get((tenant_id, account_id))
        if not streams:
            return
        live = LiveRecord(
            topic,
            partition,
            int(getattr(record, "offset")),  # noqa: B009 (aiokafka's record type is untyped)
            tenant_id,
            account_id,
            tuple(getattr(record, "headers", ()) or ()),
            getattr(record, "value", None),
        )
        for subscription in streams:
            subscription.offer(live)

    async def replay(
        self, tenant_id: str, account_id: str, since: Position, until: Position
    ) -> AsyncIterator[LiveRecord]:
        """The account's records in [since, until) of each topic, read back from Kafka."""
        wanted = {t: (p, o, until[t][1]) for t, (p, o) in since.items() if t in until and o < until[t][1]}
        if not wanted:
            return
        consumer = self._clients.consumer(group=None)
        await consumer.start()
        try:
            assignment = {
                TopicPartition(self._clients.topic(t), p): (t, o, end) for t, (p, o, end) in wanted.items()
            }
            consumer.assign(list(assignment))
            for tp, (_, offset, _) in assignment.items():
                consumer.seek(tp, offset)
            remaining = set(assignment)
            while remaining:
                batches = await consumer.getmany(*remaining, timeout_ms=500, max_records=2_000)
                if not batches:
                    break  # nothing more to read (e.g. the range was deleted by retention)
                for tp, records in batches.items():
                    topic, _, end = assignment[tp]
                    for record in records:
                        if record.offset >= end:
                            remaining.discard(tp)
                            break
                        if record.key and _belongs(record.key, tenant_id, account_id):
                            yield LiveRecord(
                                topic,
                                tp.partition,
                                record.offset,
                                tenant_id,
                                account_id,
                                tuple(record.headers or ()),
                                record.value,
                            )
                        if record.offset + 1 >= end:
                            remaining.discard(tp)
        finally:
            await consumer.stop()


def _belongs(key: bytes, tenant_id: str, account_id: str) -> bool:
    try:
        return parse_record_key(key) == (tenant_id, account_id)
    except ValueError:
        return False
