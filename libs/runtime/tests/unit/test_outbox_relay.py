"""The outbox relay on an in-memory outbox and producer: order, batching, acknowledgement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiokafka.errors import KafkaTimeoutError

from tangible_runtime.fakes import FakeProducer, InMemoryOutboxStore
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.metrics import RuntimeMetrics, new_metrics
from tangible_runtime.outbox import OutboxRelay, OutboxTransaction
from tangible_runtime.retries import NO_WAIT
from tangible_runtime.settings import KafkaSettings

PREFIX = "run1-"


def relay_for(
    store: InMemoryOutboxStore, producer: FakeProducer, *, batch_size: int = 100
) -> tuple[OutboxRelay, RuntimeMetrics]:
    """A relay that retries a failed round at once (the tests count rounds, not time)."""
    metrics = new_metrics()
    relay = OutboxRelay(
        store=store,
        producer=producer,
        clients=KafkaClients(KafkaSettings(topic_prefix=PREFIX)),
        metrics=metrics,
        batch_size=batch_size,
        retry_backoff=NO_WAIT,
    )
    return relay, metrics


def outbox_with(*keys: str) -> InMemoryOutboxStore:
    """One row per key, in order; each value names its row (`<key>#<n>`)."""
    store = InMemoryOutboxStore()
    for n, key in enumerate(keys):
        store.add("tangible.usage.v1", key.encode(), f"{key}#{n}".encode(), [("ce_id", f"id-{n}")])
    return store


def published(metrics: RuntimeMetrics) -> float:
    return metrics.registry.get_sample_value("outbox_published_total") or 0.0


def backlog(metrics: RuntimeMetrics) -> float | None:
    return metrics.registry.get_sample_value("outbox_backlog_records")


async def test_rows_are_published_in_id_order_to_the_prefixed_topic_then_deleted() -> None:
    store = outbox_with("t/a", "t/b", "t/a")
    producer = FakeProducer()
    relay, metrics = relay_for(store, producer)

    assert await relay.relay_once() == 3

    assert [r.value for r in producer.sent] == [b"t/a#0", b"t/b#1", b"t/a#2"]
    first = producer.sent[0]
    assert (first.topic, first.key, first.headers) == (
        f"{PREFIX}tangible.usage.v1",
        b"t/a",
        [("ce_id", b"id-0")],
    )
    assert store.rows == []
    assert published(metrics) == 3
    assert backlog(metrics) == 0


async def test_batches_keep_each_keys_order_across_rounds() -> None:
    keys = ["t/a", "t/b", "t/a", "t/c", "t/b", "t/a", "t/a"]
    store = outbox_with(*keys)
    producer = FakeProducer()
    relay, _ = relay_for(store, producer, batch_size=2)

    rounds = []
    while (count := await relay.relay_once()) > 0:
        rounds.append(count)

    assert rounds == [2, 2, 2, 1]
    for key in set(keys):
        sent = [r.value for r in producer.sent if r.key == key.encode()]
        expected = [f"{key}#{n}".encode() for n, k in enumerate(keys) if k == key]
        assert sent == expected
    assert store.rows == []


async def test_rows_stay_in_the_outbox_until_the_broker_acknowledged_them() -> None:
    store = outbox_with("t/a", "t/b")
    producer = FakeProducer(hold_acks=True)
    relay, metrics = relay_for(store, producer)

    round_ = asyncio.create_task(relay.relay_once())
    await asyncio.wait_for(producer.wait_until_pending(2), 1)
    await asyncio.sleep(0)
    assert not round_.done()
    assert len(store.rows) == 2  # sent, not acknowledged: nothing deleted
    assert published(metrics) == 0

    producer.acknowledge()
    assert await asyncio.wait_for(round_, 1) == 2
    assert store.rows == []
    assert published(metrics) == 2


@pytest.mark.parametrize(
    "producer",
    [
        pytest.param(FakeProducer(ack_error=KafkaTimeoutError()), id="acknowledgement-fails"),
        pytest.param(FakeProducer(send_error=KafkaTimeoutError()), id="send-raises"),
    ],
)
async def test_a_failed_send_deletes_nothing_and_the_next_round_publishes_the_same_rows(
    producer: FakeProducer,
) -> None:
    store = outbox_with("t/a", "t/b", "t/a")
    relay, metrics = relay_for(store, producer)

    with pytest.raises(KafkaTimeoutError):
        await relay.relay_once()
    assert [r.id for r in store.rows] == [1, 2, 3]
    assert published(metrics) == 0

    healthy = FakeProducer()
    relay, metrics = relay_for(store, healthy)
    assert await relay.relay_once() == 3
    assert [r.value for r in healthy.sent] == [b"t/a#0", b"t/b#1", b"t/a#2"]
    assert store.rows == []


async def test_a_relay_that_does_not_hold_the_lock_publishes_nothing() -> None:
    store = outbox_with("t/a")
    store.locked_elsewhere = True  # another replica is relaying this database
    producer = FakeProducer()
    relay, _ = relay_for(store, producer)

    assert await relay.relay_once() == 0
    assert producer.sent == []
    assert len(store.rows) == 1


async def test_an_empty_outbox_reports_no_backlog() -> None:
    relay, metrics = relay_for(InMemoryOutboxStore(), FakeProducer())
    assert await relay.relay_once() == 0
    assert backlog(metrics) == 0


async def test_after_a_full_batch_the_backlog_is_the_rows_still_waiting() -> None:
    store = outbox_with(*["t/a"] * 5)
    relay, metrics = relay_for(store, FakeProducer(), batch_size=2)

    await relay.relay_once()
    assert backlog(metrics) == 3
    await relay.relay_once()
    assert backlog(metrics) == 1
    await relay.relay_once()
    assert backlog(metrics) == 0


async def test_the_running_relay_retries_failed_rounds_without_end_then_publishes() -> None:
    store = outbox_with("t/a", "t/b")
    # the database away, then a failure that is nobody's fault in particular, then a lost ack
    store.failures = [ConnectionError("database away"), RuntimeError("surprise")]
    producer = FakeProducer(ack_error=KafkaTimeoutError())
    relay, metrics = relay_for(store, producer)

    running = asyncio.create_task(relay.run())
    await asyncio.wait_for(producer.wait_until_sent(2), 1)
    producer.ack_error = None
    await asyncio.wait_for(store.wait_until_empty(), 1)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running

    assert store.transactions >= 4
    assert [r.value for r in producer.acknowledged] == [b"t/a#0", b"t/b#1"]
    assert published(metrics) == 2


async def test_a_record_a_handler_refused_is_counted_as_dead_lettered_once_it_is_relayed() -> None:
    store = outbox_with("t/a")
    store.add(
        "tangible.dlq.entitlements-usage",
        b"t/b",
        b"refused",
        [("dlq_consumer", "entitlements-usage"), ("dlq_reason", "parking_full"), ("dlq_detail", "")],
    )
    producer = FakeProducer()
    relay, metrics = relay_for(store, producer)
    labels = {"consumer": "entitlements-usage", "reason": "parking_full"}
    assert metrics.registry.get_sample_value("dead_letters_total", labels) is None

    assert await relay.relay_once() == 2

    assert producer.sent[1].topic == f"{PREFIX}tangible.dlq.entitlements-usage"
    assert metrics.registry.get_sample_value("dead_letters_total", labels) == 1.0
    assert await relay.relay_once() == 0  # counted when relayed, not again
    assert metrics.registry.get_sample_value("dead_letters_total", labels) == 1.0


async def test_a_commit_notified_while_the_relay_polls_is_published_without_waiting_for_the_next_poll() -> (
    None
):
    class CommitDuringThePoll(InMemoryOutboxStore):
        """The first poll finds nothing; another process commits a row and notifies while
        that poll's transaction is still open."""

        @asynccontextmanager
        async def transaction(self) -> AsyncIterator[OutboxTransaction]:
            async with super().transaction() as transaction:
                yield transaction
            if self.transactions == 1:
                self.add("tangible.usage.v1", b"t/a", b"t/a#late")
                relay.wake()

    store = CommitDuringThePoll()
    producer = FakeProducer()
    relay = OutboxRelay(
        store=store,
        producer=producer,
        clients=KafkaClients(KafkaSettings(topic_prefix=PREFIX)),
        metrics=new_metrics(),
        idle_seconds=60.0,  # only the wake can publish the row within the test's second
    )
    running = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(producer.wait_until_sent(1), 1)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert [r.value for r in producer.acknowledged] == [b"t/a#late"]
