"""Transactional outbox: events are rows in the state change's transaction, then relayed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import orjson
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tangible_runtime.db import SessionFactory
from tangible_runtime.kafka import KafkaClients, RecordProducer
from tangible_runtime.listen import ChannelListener
from tangible_runtime.logs import get_logger
from tangible_runtime.metrics import RuntimeMetrics
from tangible_runtime.retries import Backoff, retrying
from tangible_runtime.telemetry import current_trace_headers
from tangible_runtime.tenancy import SESSION_KEY, UNSCOPED
from tangible_schemas import CloudEvent, EventData, dead_letter_topic, new_event, to_record

log = get_logger(__name__)


class Outbox:
    """Collects a unit of work's events; `flush` writes them in one INSERT.

    Rows are kept as columns and inserted from arrays (`unnest`), one statement and four
    parameters per flush: a multi-row INSERT would bind four parameters per row and encode
    each row's headers on its own, which cost consumers more than the rows' insertion."""

    def __init__(self, table: Table, source: str) -> None:
        self._source = source
        self._insert = text(
            f"INSERT INTO {table.name} (topic, key, value, headers) "
            "SELECT topic, key, value, headers FROM unnest(CAST(:topics AS text[]), "
            "CAST(:keys AS bytea[]), CAST(:values AS bytea[]), CAST(:headers AS jsonb[])) "
            "WITH ORDINALITY AS row (topic, key, value, headers, n) ORDER BY n"  # ids in add order
        )
        self.discard()

    def _append(self, topic: str, key: bytes, value: bytes, headers: list[list[str]]) -> None:
        self._topics.append(topic)
        self._keys.append(key)
        self._values.append(value)
        self._headers.append(orjson.dumps(headers).decode())

    def add(
        self,
        data: EventData,
        *,
        event_id: str | None = None,
        time: datetime | None = None,
        trace_headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> CloudEvent[EventData]:
        """`trace_headers`: the span the event belongs to when it is not the current one
        (e.g. a delivery's send span, recorded later in the round's transaction)."""
        event: CloudEvent[EventData] = new_event(data, source=self._source, event_id=event_id, time=time)
        record = to_record(event, current_trace_headers() if trace_headers is None else trace_headers)
        self._append(record.topic, record.key, record.value, [[k, v.decode()] for k, v in record.headers])
        return event

    def add_dead_letter(
        self,
        consumer: str,
        *,
        key: bytes,
        value: bytes,
        headers: Iterable[tuple[str, bytes]],
        reason: str,
        detail: str = "",
    ) -> None:
        """A consumed record this consumer refuses (e.g. unknown account), with its reason."""
        self._append(
            dead_letter_topic(consumer).name,
            key,
            value,
            [
                *([k, v.decode("utf-8", "replace")] for k, v in headers),
                ["dlq_consumer", consumer],
                ["dlq_reason", reason],
                ["dlq_detail", detail[:1000]],
            ],
        )

    @property
    def pending(self) -> int:
        return len(self._topics)

    @property
    def keys(self) -> list[bytes]:
        """The record keys of the events not flushed yet: whom they are about."""
        return list(self._keys)

    async def flush(self, session: AsyncSession) -> None:
        if self._topics:
            await session.execute(
                self._insert,
                {
                    "topics": self._topics,
                    "keys": self._keys,
                    "values": self._values,
                    "headers": self._headers,
                },
            )
            # delivered when the transaction commits: wakes relays of other processes at once
            await session.execute(_NOTIFY)
            self.discard()

    def discard(self) -> None:
        self._topics: list[str] = []
        self._keys: list[bytes] = []
        self._values: list[bytes] = []
        self._headers: list[str] = []


_LOCK_KEY = 0x7A6E6762  # one relay at a time per database keeps per-key order
NOTIFY_CHANNEL = "tangible_outbox"
_NOTIFY = text(f"NOTIFY {NOTIFY_CHANNEL}")
_DLQ_PREFIX = "tangible.dlq."


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    topic: str  # logical name; the relay adds the deployment's prefix
    key: bytes | None
    value: bytes
    headers: list[list[str]]


class OutboxTransaction(Protocol):
    """One relay round's view of the outbox; nothing it deletes is gone before it commits."""

    async def lock(self) -> bool:
        """Whether this relay may publish now (another replica may hold the outbox)."""
        ...

    async def oldest(self, limit: int) -> Sequence[OutboxRow]: ...

    async def delete(self, ids: Sequence[int]) -> None: ...

    async def count(self) -> int: ...


class OutboxStore(Protocol):
    """Where the relay reads the outbox from: PostgreSQL, or an in-memory fake in tests.
    The transaction commits when its block exits normally and rolls back otherwise."""

    def transaction(self) -> AbstractAsyncContextManager[OutboxTransaction]: ...


class _PostgresOutboxTransaction:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self) -> bool:
        locked = await self._session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        return bool(locked)

    async def oldest(self, limit: int) -> Sequence[OutboxRow]:
        rows = await self._session.execute(
            text("SELECT id, topic, key, value, headers FROM outbox ORDER BY id LIMIT :n"), {"n": limit}
        )
        return [OutboxRow(row.id, row.topic, row.key, row.value, row.headers) for row in rows]

    async def delete(self, ids: Sequence[int]) -> None:
        await self._session.execute(text("DELETE FROM outbox WHERE id = ANY(:ids)"), {"ids": list(ids)})

    async def count(self) -> int:
        return int(await self._session.scalar(text("SELECT count(*) FROM outbox")) or 0)


class PostgresOutboxStore:
    """The service's `outbox` table, locked per database by a transaction-scoped advisory lock."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self._session_factory = session_factory

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[OutboxTransaction]:
        # the outbox has no tenant column: no row-level security, no setting to send
        async with self._session_factory(info={SESSION_KEY: UNSCOPED}) as session, session.begin():
            yield _PostgresOutboxTransaction(session)


RELAY_BACKOFF = Backoff(first=0.2, maximum=5.0, jitter=0.1)


class OutboxListener:
    """LISTEN for the commits that wrote outbox rows, in any process, to wake the relay at
    once, so that it can poll seldom while nothing happens (an empty poll is a transaction
    and three statements: four relays polling every 50 ms took 0.2 of a core). Connection
    lost: `listening` turns false (the relay polls at its idle interval again) and the
    listener reconnects (tangible_runtime.listen)."""

    def __init__(self, engine: AsyncEngine, *, check_seconds: float = 30.0) -> None:
        self._channel = ChannelListener(engine, NOTIFY_CHANNEL, check_seconds=check_seconds)

    @property
    def listening(self) -> bool:
        return self._channel.listening

    async def run(self, on_notify: Callable[[], None]) -> None:
        def listening(state: bool) -> None:
            if state:
                on_notify()  # rows committed before the LISTEN took effect

        await self._channel.run(lambda _payload: on_notify(), listening)


class OutboxRelay:
    """Publishes outbox rows in id order and deletes them once Kafka acknowledged."""

    def __init__(
        self,
        *,
        store: OutboxStore,
        producer: RecordProducer,
        clients: KafkaClients,
        metrics: RuntimeMetrics,
        batch_size: int = 1000,
        idle_seconds: float = 0.05,
        retry_backoff: Backoff = RELAY_BACKOFF,
        listener: OutboxListener | None = None,
        listening_poll_seconds: float = 2.0,
    ) -> None:
        """`idle_seconds`: how long an idle relay waits before it polls again, unless woken;
        `listening_poll_seconds` instead while `listener` receives the commits' notifications
        (the poll is then only a safety net)."""
        self._store = store
        self._producer = producer
        self._clients = clients
        self._metrics = metrics
        self._batch_size = batch_size
        self._idle_seconds = idle_seconds
        self._retry_backoff = retry_backoff
        self._listener = listener
        self._listening_poll_seconds = listening_poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Hint that rows were just committed (same-process producers skip the poll delay)."""
        self._wake.set()

    async def run(self) -> None:
        listening = asyncio.create_task(self._listener.run(self.wake)) if self._listener else None
        try:
            while True:
                # cleared before the poll, not after: a commit notified while the poll runs
                # must wake the next idle wait, or its rows wait a whole listening poll
                self._wake.clear()
                # any failure (broker, database, a row Kafka refuses) is retried without end:
                # the rows stay in the outbox, and skipping one would break its key's order
                published = await retrying(
                    self.relay_once,
                    backoff=self._retry_backoff,
                    log_event="outbox_relay_failed",
                    traceback=True,
                )
                if published < self._batch_size:
                    await self._idle()
        finally:
            if listening is not None:
                listening.cancel()
                await asyncio.gather(listening, return_exceptions=True)

    async def _idle(self) -> None:
        listened = self._listener is not None and self._listener.listening
        try:
            await asyncio.wait_for(
                self._wake.wait(), self._listening_poll_seconds if listened else self._idle_seconds
            )
        except TimeoutError:
            pass

    async def relay_once(self) -> int:
        async with self._store.transaction() as outbox:
            if not await outbox.lock():
                return 0
            rows = await outbox.oldest(self._batch_size)
            if not rows:
                self._metrics.outbox_backlog.set(0)
                return 0
            with self._metrics.publish_latency.time():
                futures = [
                    await self._producer.send(
                        self._clients.topic(row.topic),
                        value=row.value,
                        key=row.key,
                        headers=[(k, v.encode()) for k, v in row.headers],
                    )
                    for row in rows
                ]
                await asyncio.gather(*futures)
            await outbox.delete([row.id for row in rows])
            if len(rows) == self._batch_size:
                # counted after the delete, in the same transaction: the rows still waiting
                self._metrics.outbox_backlog.set(await outbox.count())
            else:
                self._metrics.outbox_backlog.set(0)
        self._metrics.outbox_published.inc(len(rows))
        self._count_dead_letters(rows)
        return len(rows)

    def _count_dead_letters(self, rows: Sequence[OutboxRow]) -> None:
        """Records a handler refused (outbox `add_dead_letter`) count and log as the ones
        the consumer runner dead-letters do, once they are on the dead-letter topic."""
        for row in rows:
            if row.topic.startswith(_DLQ_PREFIX):
                headers = dict(row.headers)
                consumer, reason = headers.get("dlq_consumer", ""), headers.get("dlq_reason", "")
                self._metrics.dead_letters.labels(consumer, reason).inc()
                self._metrics.consumed.labels(consumer, "dead_lettered").inc()
                log.warning(
                    "dead_lettered", consumer=consumer, reason=reason, detail=headers.get("dlq_detail", "")
                )
