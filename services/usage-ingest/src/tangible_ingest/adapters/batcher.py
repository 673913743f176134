"""Group commit per partition: records of concurrent requests share producer batches.

aiokafka keeps one request in flight per broker and one queued batch per partition. If
every HTTP request handed over batches of its own, concurrent requests would queue behind
each other, one produce round trip each. Here a request appends its records to the open
batch of each partition and waits for that batch's acknowledgement; the batch is handed to
aiokafka (`send_batch`) as soon as the partition's queue has room, carrying whatever the
requests arriving meanwhile appended. Appending is synchronous and costs one call into
aiokafka's C record builder per record; per-partition order is kept.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer


@dataclass(slots=True)
class _OpenBatch:
    builder: Any  # aiokafka BatchBuilder
    acked: asyncio.Future[None]  # Kafka acknowledged (or refused) the batch
    records: int = 0
    queued: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


def _consume_exception(future: asyncio.Future[None]) -> None:
    """Failures are read by the waiting requests; this silences the rest (all timed out)."""
    if not future.cancelled():
        future.exception()


class PartitionBatcher:
    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic
        self._open: dict[int, _OpenBatch] = {}
        self._submitters: set[asyncio.Task[None]] = set()
        self.backlog = 0  # records appended and not yet acknowledged (or refused)

    def append(
        self, partition: int, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[None]:
        """Add one record; returns the future of the batch that will carry it."""
        batch = self._open.get(partition)
        if (
            batch is None
            or batch.builder.append(key=key, value=value, timestamp=None, headers=headers) is None
        ):
            batch = self._new_batch(partition, previous=batch)
            # a record larger than the batch size still goes, alone (as aiokafka does)
            batch.builder.append(key=key, value=value, timestamp=None, headers=headers)
        batch.records += 1
        self.backlog += 1
        return batch.acked

    def _new_batch(self, partition: int, previous: _OpenBatch | None) -> _OpenBatch:
        loop = asyncio.get_running_loop()
        batch = _OpenBatch(self._producer.create_batch(), loop.create_future())
        batch.acked.add_done_callback(_consume_exception)
        batch.acked.add_done_callback(lambda _: self._settled(batch))
        batch.queued.add_done_callback(_consume_exception)
        self._open[partition] = batch
        task = loop.create_task(self._submit(partition, batch, previous))
        self._submitters.add(task)
        task.add_done_callback(self._submitters.discard)
        return batch

    async def _submit(self, partition: int, batch: _OpenBatch, previous: _OpenBatch | None) -> None:
        """Hand the batch over once the partition's queue has room; until then it stays
        open and collects the records of later requests."""
        try:
            if previous is not None:  # the previous one goes first (order), failed or not
                await asyncio.wait([previous.queued])
            delivery = await self._producer.send_batch(batch.builder, self._topic, partition=partition)
        except BaseException as error:
            self._close(partition, batch)
            failure = error if isinstance(error, Exception) else asyncio.CancelledError()
            for future in (batch.queued, batch.acked):
                if not future.done():
                    future.set_exception(failure)
            if not isinstance(error, Exception):
                raise
            return
        # No await since send_batch queued it: nobody appended meanwhile, and closing it
        # now also spares it aiokafka's linger.
        self._close(partition, batch)
        batch.queued.set_result(None)
        try:
            await delivery
        except Exception as error:
            batch.acked.set_exception(error)
        else:
            batch.acked.set_result(None)

    def _settled(self, batch: _OpenBatch) -> None:
        self.backlog -= batch.records

    def _close(self, partition: int, batch: _OpenBatch) -> None:
        batch.builder.close()
        if self._open.get(partition) is batch:
            del self._open[partition]
