"""Group commit per partition, and the records a failed publish left on their way."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from aiokafka import AIOKafkaProducer

from tangible_ingest.adapters.batcher import PartitionBatcher
from tangible_ingest.adapters.in_flight import InFlight
from tangible_ingest.domain.model import UsageEvent
from tangible_ingest.entrypoints.translate import to_command


@dataclass
class FakeBuilder:
    capacity: int = 3
    records: list[bytes] = field(default_factory=list)
    closed: bool = False

    def append(self, *, key: bytes, value: bytes, timestamp: None, headers: list[Any]) -> object | None:
        assert not self.closed, "appended to a batch already handed over"
        if len(self.records) >= self.capacity:
            return None
        self.records.append(value)
        return object()

    def close(self) -> None:
        self.closed = True


class FakeProducer:
    """Like aiokafka: one queued batch per partition, handed over when the previous drains."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, list[bytes]]] = []
        self.drained: dict[int, asyncio.Event] = {}
        self.deliveries: list[asyncio.Future[None]] = []

    def create_batch(self) -> FakeBuilder:
        return FakeBuilder()

    async def send_batch(self, batch: FakeBuilder, topic: str, *, partition: int) -> asyncio.Future[None]:
        gate = self.drained.setdefault(partition, asyncio.Event())
        if any(p == partition for p, _ in self.sent):
            await gate.wait()  # the previous batch of this partition has not left yet
            gate.clear()
        self.sent.append((partition, batch.records))
        delivery: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.deliveries.append(delivery)
        return delivery


async def settle() -> None:
    """Let callbacks and woken tasks run."""
    for _ in range(5):
        await asyncio.sleep(0)


def batcher_with(producer: FakeProducer) -> PartitionBatcher:
    return PartitionBatcher(cast(AIOKafkaProducer, producer), "topic")


async def test_requests_arriving_while_a_batch_waits_share_the_next_one_in_order() -> None:
    producer = FakeProducer()
    batcher = batcher_with(producer)
    first = batcher.append(0, b"k", b"r1", [])
    await asyncio.sleep(0)  # handed over at once: the partition's queue was empty
    second = batcher.append(0, b"k", b"r2", [])
    third = batcher.append(0, b"k", b"r3", [])
    assert second is third  # both wait in the same open batch
    await asyncio.sleep(0)
    assert producer.sent == [(0, [b"r1"])]
    producer.drained[0].set()
    await asyncio.sleep(0)
    assert producer.sent == [(0, [b"r1"]), (0, [b"r2", b"r3"])]
    producer.deliveries[0].set_result(None)
    await asyncio.sleep(0)
    assert first.done() and not second.done()
    producer.deliveries[1].set_exception(RuntimeError("broker said no"))
    await asyncio.sleep(0)
    assert isinstance(second.exception(), RuntimeError)


async def test_a_full_batch_goes_first_and_a_new_one_takes_the_rest() -> None:
    producer = FakeProducer()
    batcher = batcher_with(producer)
    futures = [batcher.append(1, b"k", f"r{n}".encode(), []) for n in range(5)]
    assert futures[0] is futures[2] and futures[3] is futures[4] and futures[2] is not futures[3]
    await asyncio.sleep(0)
    producer.drained[1].set()
    for _ in range(3):
        await asyncio.sleep(0)
    assert producer.sent == [(1, [b"r0", b"r1", b"r2"]), (1, [b"r3", b"r4"])]


def events(*ids: str, quantity: int = 1, tenant: str = "t1") -> list[UsageEvent]:
    items = [
        {
            "specversion": "1.0",
            "id": i,
            "source": "s",
            "type": "t",
            "subject": "a",
            "data": {"quantity": quantity},
        }
        for i in ids
    ]
    return to_command(tenant, items, datetime(2026, 11, 26, tzinfo=UTC)).events


async def test_a_retry_waits_for_the_record_still_on_its_way_instead_of_sending_it_again() -> None:
    in_flight = InFlight()
    pending: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    a, b = events("a", "b")
    in_flight.keep([(pending, [a, b])])

    [changed_b] = events("b", quantity=5)
    [c] = events("c")
    earlier, fresh = in_flight.take([a, changed_b, c])
    assert earlier == [(pending, [a])]
    assert fresh == [changed_b, c]  # a changed payload is sent anew
    assert in_flight.take([a]) == ([], [a])  # taken once: the retry owns it now
    [b_elsewhere] = events("b", tenant="t2")
    assert in_flight.take([b_elsewhere]) == ([], [b_elsewhere])  # per tenant


async def test_records_whose_batch_failed_are_forgotten_and_the_rest_is_bounded() -> None:
    loop = asyncio.get_running_loop()
    failed: asyncio.Future[None] = loop.create_future()
    failed.set_exception(RuntimeError("refused"))
    landed: asyncio.Future[None] = loop.create_future()
    landed.set_result(None)
    in_flight = InFlight(max_events=2)
    a, b, c = events("a", "b", "c")
    in_flight.keep([(failed, [a])])
    assert len(in_flight) == 0
    in_flight.keep([(landed, [a, b, c])])
    assert len(in_flight) == 2
    earlier, fresh = in_flight.take([a, b, c])
    assert (earlier, fresh) == ([(landed, [b, c])], [a])  # the oldest went first


async def test_the_backlog_counts_records_until_their_batch_is_settled() -> None:
    producer = FakeProducer()
    batcher = batcher_with(producer)
    for n in range(4):
        batcher.append(2, b"k", f"r{n}".encode(), [])
    assert batcher.backlog == 4
    await settle()
    producer.deliveries[0].set_result(None)  # the first batch (three records) is acknowledged
    await settle()
    assert batcher.backlog == 1
    producer.drained[2].set()
    await settle()
    producer.deliveries[1].set_exception(RuntimeError("refused"))
    await settle()
    assert batcher.backlog == 0
