"""In-memory stand-ins for Kafka and the outbox table, so that the consumer runner and the
outbox relay can be tested in milliseconds, with no broker and no database.

They implement the ports of `tangible_runtime.kafka` and `tangible_runtime.outbox`; the real
infrastructure is exercised by the services' integration tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

from tangible_runtime.outbox import OutboxRow, OutboxTransaction
from tangible_schemas import TOPICS, Topic
from tangible_schemas.binding import KafkaRecord

Batch = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


def consumer_record(
    record: KafkaRecord, *, offset: int, partition: int = 0, topic: str | None = None
) -> ConsumerRecord[bytes, bytes]:
    """A record as the consumer would receive it (its topic physical, i.e. prefixed)."""
    return ConsumerRecord(
        topic=topic or record.topic,
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=record.key,
        value=record.value,
        checksum=None,
        serialized_key_size=len(record.key),
        serialized_value_size=len(record.value),
        headers=list(record.headers),
    )


class FakeConsumer:
    """Serves scripted `getmany` batches in order, then empty polls; `drained` is set at the
    first empty poll, i.e. once every batch was handled (and committed) by the runner."""

    def __init__(
        self, batches: Iterable[Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]]]
    ) -> None:
        self._batches: list[Batch] = [dict(batch) for batch in batches]
        self._assignment = {tp for batch in self._batches for tp in batch}
        self.highwaters: dict[TopicPartition, int] = {}
        self.commits: list[dict[TopicPartition, int]] = []
        self.started = False
        self.stopped = False
        self.drained = asyncio.Event()

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> Batch:
        if self._batches:
            return self._batches.pop(0)
        self.drained.set()
        await asyncio.sleep(0)  # a real poll waits; let the test's task run
        return {}

    def assignment(self) -> set[TopicPartition]:
        return set(self._assignment)

    async def commit(self, offsets: dict[TopicPartition, int] | None = None) -> None:
        self.commits.append(dict(offsets or {}))

    def highwater(self, partition: TopicPartition) -> int | None:
        return self.highwaters.get(partition)


@dataclass
class FakeKafkaClients:
    """Topic naming as `KafkaClients` does it, and the one consumer it hands out."""

    the_consumer: FakeConsumer
    prefix: str = ""
    ensured: list[str] = field(default_factory=list)
    consumer_calls: list[dict[str, Any]] = field(default_factory=list)

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def logical_topic(self, physical: str) -> str:
        return physical.removeprefix(self.prefix)

    def consumer(self, *topics: str, group: str | None, **overrides: Any) -> FakeConsumer:
        self.consumer_calls.append({"topics": topics, "group": group, **overrides})
        return self.the_consumer

    async def ensure_topics(self, topics: Iterable[Topic] = TOPICS) -> None:
        self.ensured.extend(t.name for t in topics)


@dataclass(frozen=True)
class SentRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


class FakeProducer:
    """Records what it is asked to send. The broker acknowledges at once, unless
    `hold_acks` (then `acknowledge()` or `fail()` settles the pending sends); `send_error`
    makes `send` itself raise (e.g. the producer's buffer is full), `ack_error` fails every ack."""

    def __init__(
        self,
        *,
        hold_acks: bool = False,
        send_error: BaseException | None = None,
        ack_error: BaseException | None = None,
    ) -> None:
        self.sent: list[SentRecord] = []
        self.acknowledged: list[SentRecord] = []
        self.hold_acks = hold_acks
        self.send_error = send_error
        self.ack_error = ack_error
        self._pending: list[tuple[SentRecord, asyncio.Future[None]]] = []
        self._sent_one = asyncio.Event()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def wait_until_pending(self, count: int) -> None:
        """Until `count` sends wait for their acknowledgement (with `hold_acks`)."""
        while self.pending < count:
            self._sent_one.clear()
            await self._sent_one.wait()

    async def wait_until_sent(self, count: int) -> None:
        """Until `count` records were sent in all (acknowledged or not)."""
        while len(self.sent) < count:
            self._sent_one.clear()
            await self._sent_one.wait()

    async def send(
        self, topic: str, *, value: bytes, key: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> asyncio.Future[None]:
        if self.send_error is not None:
            raise self.send_error
        record = SentRecord(topic, key, value, list(headers))
        self.sent.append(record)
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((record, ack))
        self._sent_one.set()
        if self.ack_error is not None:
            self.fail(self.ack_error)
        elif not self.hold_acks:
            self.acknowledge()
        return ack

    async def send_and_wait(
        self, topic: str, *, value: bytes, key: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> None:
        await (await self.send(topic, value=value, key=key, headers=headers))

    def acknowledge(self) -> None:
        for record, ack in self._pending:
            self.acknowledged.append(record)
            ack.set_result(None)
        self._pending.clear()

    def fail(self, error: BaseException) -> None:
        for _, ack in self._pending:
            ack.set_exception(error)
        self._pending.clear()


class _InMemoryTransaction:
    def __init__(self, store: InMemoryOutboxStore) -> None:
        self._store = store
        self.deleted: set[int] = set()

    async def lock(self) -> bool:
        return not self._store.locked_elsewhere

    def _visible(self) -> list[OutboxRow]:
        return sorted((r for r in self._store.rows if r.id not in self.deleted), key=lambda r: r.id)

    async def oldest(self, limit: int) -> Sequence[OutboxRow]:
        return self._visible()[:limit]

    async def delete(self, ids: Sequence[int]) -> None:
        self.deleted.update(ids)

    async def count(self) -> int:
        return len(self._visible())  # as in PostgreSQL: this transaction's deletes are seen


class InMemoryOutboxStore:
    """The outbox table with transactions: deletes apply only when the block exits normally.
    `locked_elsewhere`: another relay replica holds the advisory lock. `failures`: errors the
    next transactions raise as they begin (the database is away)."""

    def __init__(self) -> None:
        self.rows: list[OutboxRow] = []
        self.locked_elsewhere = False
        self.failures: list[BaseException] = []
        self.transactions = 0
        self._committed = asyncio.Event()

    async def wait_until_empty(self) -> None:
        """Until a committed transaction left no row."""
        while self.rows:
            self._committed.clear()
            await self._committed.wait()

    def add(
        self, topic: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, str]] = ()
    ) -> int:
        row_id = max((r.id for r in self.rows), default=0) + 1
        self.rows.append(OutboxRow(row_id, topic, key, value, [[k, v] for k, v in headers]))
        return row_id

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[OutboxTransaction]:
        self.transactions += 1
        if self.failures:
            raise self.failures.pop(0)
        transaction = _InMemoryTransaction(self)
        yield transaction
        self.rows = [r for r in self.rows if r.id not in transaction.deleted]
        self._committed.set()
