"""The consumer runner on in-memory Kafka: batches, commits, retries, bisection, dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from tangible_runtime.consumer import ConsumerRunner, Delivery
from tangible_runtime.fakes import FakeConsumer, FakeKafkaClients, FakeProducer, consumer_record
from tangible_runtime.metrics import RuntimeMetrics, new_metrics
from tangible_schemas import CloudEvent, EventData, new_event, to_record
from tangible_schemas.usage import UsageRecorded

NAME = "test-consumer"
PREFIX = "run1-"
USAGE = "tangible.usage.v1"


def records(count: int, *, partition: int = 0, first_offset: int = 0) -> list[ConsumerRecord[bytes, bytes]]:
    """`count` usage events on one partition; event ids are `e<offset>`."""
    out = []
    for offset in range(first_offset, first_offset + count):
        event: CloudEvent[EventData] = new_event(
            UsageRecorded(
                tenant_id="t1",
                account_id="a1",
                event_id=f"src-{offset}",
                event_source="app://test",
                usage_type="report.generated",
                occurred_at=datetime.now(UTC),
            ),
            source="tangible/test",
            event_id=f"e{offset}",
        )
        out.append(
            consumer_record(to_record(event), offset=offset, partition=partition, topic=PREFIX + USAGE)
        )
    return out


def tp(partition: int = 0) -> TopicPartition:
    return TopicPartition(PREFIX + USAGE, partition)


class Handler:
    """Records every call; `fail(ids, call)` returns the error a call raises, if any."""

    def __init__(
        self, fail: Callable[[list[str], int], BaseException | None] = lambda ids, call: None
    ) -> None:
        self.calls: list[list[str]] = []
        self.handled: list[str] = []
        self._fail = fail

    async def __call__(self, deliveries: Sequence[Delivery]) -> None:
        ids = [d.event.id for d in deliveries]
        self.calls.append(ids)
        error = self._fail(ids, len(self.calls))
        if error is not None:
            raise error
        self.handled.extend(ids)


def runner_for(
    handler: Callable[[Sequence[Delivery]], object],
    *batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
    **options: object,
) -> tuple[ConsumerRunner, FakeConsumer, FakeProducer, FakeKafkaClients, RuntimeMetrics]:
    consumer = FakeConsumer(batches)
    clients = FakeKafkaClients(consumer, prefix=PREFIX)
    producer = FakeProducer()
    metrics = new_metrics()
    runner = ConsumerRunner(
        name=NAME,
        topics=[USAGE],
        handler=handler,  # type: ignore[arg-type]
        clients=clients,
        producer=producer,
        metrics=metrics,
        retry_base_seconds=0.0,  # retries without waiting: the tests count attempts, not time
        **options,  # type: ignore[arg-type]
    )
    return runner, consumer, producer, clients, metrics


async def run_until_drained(runner: ConsumerRunner, consumer: FakeConsumer) -> None:
    task = asyncio.create_task(runner.run())
    await asyncio.wait_for(consumer.drained.wait(), 2)
    runner.request_stop()
    await asyncio.wait_for(task, 2)


def sample(metrics: RuntimeMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_each_batch_reaches_the_handler_once_and_its_offsets_are_committed_after_it() -> None:
    commits_seen_by_handler: list[int] = []
    handler = Handler()

    async def observing(deliveries: Sequence[Delivery]) -> None:
        commits_seen_by_handler.append(len(consumer.commits))
        await handler(deliveries)

    runner, consumer, producer, clients, metrics = runner_for(
        observing,
        {tp(0): records(3), tp(1): records(2, partition=1, first_offset=10)},
        {tp(0): records(2, first_offset=3)},
    )
    await run_until_drained(runner, consumer)

    assert handler.calls == [["e0", "e1", "e2", "e10", "e11"], ["e3", "e4"]]
    assert commits_seen_by_handler == [0, 1]  # the handler ran before its batch was committed
    assert consumer.commits == [{tp(0): 3, tp(1): 12}, {tp(0): 5}]
    assert producer.sent == []
    assert consumer.started and consumer.stopped
    assert clients.consumer_calls[0]["group"] == NAME
    assert sample(metrics, "consumer_records_total", consumer=NAME, outcome="handled") == 7


async def test_deliveries_carry_the_logical_topic_and_the_record_coordinates() -> None:
    seen: list[Delivery] = []

    async def keep(deliveries: Sequence[Delivery]) -> None:
        seen.extend(deliveries)

    runner, consumer, *_ = runner_for(keep, {tp(2): records(1, partition=2, first_offset=7)})
    await run_until_drained(runner, consumer)
    (delivery,) = seen
    assert (delivery.topic, delivery.partition, delivery.offset) == (USAGE, 2, 7)
    assert delivery.key == b"t1/a1"


async def test_the_dead_letter_topic_exists_before_the_first_poll() -> None:
    runner, consumer, _, clients, _ = runner_for(Handler())
    await run_until_drained(runner, consumer)
    assert clients.ensured == [f"tangible.dlq.{NAME}"]


async def test_a_handler_that_never_returns_leaves_the_offsets_uncommitted() -> None:
    started = asyncio.Event()

    async def hangs(deliveries: Sequence[Delivery]) -> None:
        started.set()
        await asyncio.Event().wait()

    runner, consumer, *_ = runner_for(hangs, {tp(): records(2)})
    task = asyncio.create_task(runner.run())
    await asyncio.wait_for(started.wait(), 2)
    task.cancel()  # the process dies mid-batch
    with pytest.raises(asyncio.CancelledError):
        await task
    assert consumer.commits == []  # so the batch is redelivered
    assert consumer.stopped


async def test_a_stop_request_lets_the_batch_in_hand_finish_and_commit() -> None:
    handler = Handler()

    async def stop_midway(deliveries: Sequence[Delivery]) -> None:
        runner.request_stop()
        await asyncio.sleep(0)
        await handler(deliveries)

    runner, consumer, *_ = runner_for(stop_midway, {tp(): records(2)}, {tp(): records(1, first_offset=2)})
    await asyncio.wait_for(runner.run(), 2)
    assert handler.handled == ["e0", "e1"]
    assert consumer.commits == [{tp(): 2}]  # the second batch was never taken


async def test_a_data_failure_is_retried_and_the_batch_handled_when_it_passes() -> None:
    handler = Handler(fail=lambda ids, call: ValueError("flaky") if call == 1 else None)
    runner, consumer, producer, *_ = runner_for(handler, {tp(): records(3)})
    await run_until_drained(runner, consumer)
    assert handler.calls == [["e0", "e1", "e2"]] * 2
    assert handler.handled == ["e0", "e1", "e2"]
    assert producer.sent == []
    assert consumer.commits == [{tp(): 3}]


async def test_a_poison_record_is_bisected_out_and_dead_lettered_with_its_reason() -> None:
    handler = Handler(fail=lambda ids, call: ValueError("bad record") if "e2" in ids else None)
    batch = records(4)
    runner, consumer, producer, _, metrics = runner_for(handler, {tp(): batch}, max_attempts=3)
    await run_until_drained(runner, consumer)

    assert sorted(handler.handled) == ["e0", "e1", "e3"]
    # every slice holding the poison record is tried max_attempts times: 0-3, then 2-3, then 2
    assert [ids for ids in handler.calls if "e2" in ids] == [["e0", "e1", "e2", "e3"]] * 3 + [
        ["e2", "e3"]
    ] * 3 + [["e2"]] * 3
    (dead,) = producer.sent
    assert dead.topic == f"{PREFIX}tangible.dlq.{NAME}"
    assert (dead.key, dead.value) == (batch[2].key, batch[2].value)
    headers = dict(dead.headers)
    assert headers["ce_id"] == b"e2"  # the original headers travel with it
    assert headers["dlq_consumer"] == NAME.encode()
    assert headers["dlq_reason"] == b"handler_failed"
    assert headers["dlq_detail"] == b"retries exhausted"
    assert consumer.commits == [{tp(): 4}]  # the batch is done: its poison record is parked
    assert sample(metrics, "dead_letters_total", consumer=NAME, reason="handler_failed") == 1


async def test_an_infrastructure_failure_is_retried_without_end_and_never_bisected() -> None:
    outage = 25  # far more than max_attempts
    handler = Handler(fail=lambda ids, call: ConnectionError("database away") if call <= outage else None)
    runner, consumer, producer, *_ = runner_for(handler, {tp(): records(4)}, max_attempts=3)
    await run_until_drained(runner, consumer)
    assert handler.calls == [["e0", "e1", "e2", "e3"]] * (outage + 1)
    assert handler.handled == ["e0", "e1", "e2", "e3"]
    assert producer.sent == []
    assert consumer.commits == [{tp(): 4}]


async def test_an_infrastructure_failure_is_recognised_through_its_cause() -> None:
    def fail(ids: list[str], call: int) -> BaseException | None:
        if call > 5:
            return None
        wrapped = RuntimeError("query failed")
        wrapped.__cause__ = TimeoutError()
        return wrapped

    handler = Handler(fail=fail)
    runner, consumer, producer, *_ = runner_for(handler, {tp(): records(2)}, max_attempts=2)
    await run_until_drained(runner, consumer)
    assert handler.handled == ["e0", "e1"]
    assert producer.sent == []


async def test_an_undecodable_record_is_dead_lettered_without_reaching_the_handler() -> None:
    good = records(2)
    broken = ConsumerRecord(
        topic=PREFIX + USAGE,
        partition=0,
        offset=2,
        timestamp=0,
        timestamp_type=0,
        key=b"t1/a1",
        value=b"{}",
        checksum=None,
        serialized_key_size=5,
        serialized_value_size=2,
        headers=[("ce_type", b"tangible.usage.v1.recorded")],
    )
    handler = Handler()
    runner, consumer, producer, _, metrics = runner_for(handler, {tp(): [*good, broken]})
    await run_until_drained(runner, consumer)
    assert handler.calls == [["e0", "e1"]]
    (dead,) = producer.sent
    assert dict(dead.headers)["dlq_reason"] == b"missing_attributes"
    assert dead.value == b"{}"
    assert consumer.commits == [{tp(): 3}]
    assert sample(metrics, "dead_letters_total", consumer=NAME, reason="missing_attributes") == 1


async def test_records_of_other_event_types_are_skipped_but_committed() -> None:
    handler = Handler()
    runner, consumer, _, _, metrics = runner_for(
        handler, {tp(): records(2)}, event_types={"tangible.rewards.v1.granted"}
    )
    await run_until_drained(runner, consumer)
    assert handler.calls == []
    assert consumer.commits == [{tp(): 2}]
    assert sample(metrics, "consumer_records_total", consumer=NAME, outcome="skipped") == 2


class TenantTriage:
    """Wants the tenants named by the refresh before each batch: one set per batch, in order."""

    def __init__(self, *per_batch: set[str]) -> None:
        self._per_batch = list(per_batch)
        self.tenants: set[str] = set()
        self.asked: list[tuple[str, str]] = []

    async def refresh(self) -> None:
        self.tenants = self._per_batch.pop(0)

    def wants(self, event_type: str, tenant_id: str) -> bool:
        self.asked.append((event_type, tenant_id))
        return tenant_id in self.tenants


async def test_triage_refreshed_before_each_batch_decides_which_records_are_decoded() -> None:
    handler = Handler()
    triage = TenantTriage(set(), {"t1"})
    runner, consumer, _, _, metrics = runner_for(
        handler, {tp(): records(2)}, {tp(): records(2, first_offset=2)}, triage=triage
    )
    await run_until_drained(runner, consumer)
    assert handler.calls == [["e2", "e3"]]  # the first batch came before t1 was wanted
    assert consumer.commits == [{tp(): 2}, {tp(): 4}]  # skipped records are committed too
    assert triage.asked == [("tangible.usage.v1.recorded", "t1")] * 4
    assert sample(metrics, "consumer_records_total", consumer=NAME, outcome="skipped") == 2
    assert sample(metrics, "consumer_records_total", consumer=NAME, outcome="handled") == 2


async def test_a_consumer_without_a_group_commits_nothing() -> None:
    handler = Handler()
    runner, consumer, _, clients, _ = runner_for(handler, {tp(): records(2)}, group=False)
    await run_until_drained(runner, consumer)
    assert handler.handled == ["e0", "e1"]
    assert consumer.commits == []
    assert clients.consumer_calls[0]["group"] is None


async def test_lag_is_the_distance_from_the_last_handled_record_to_the_highwater_mark() -> None:
    runner, consumer, _, _, metrics = runner_for(Handler(), {tp(): records(4)})
    consumer.highwaters[tp()] = 10
    await run_until_drained(runner, consumer)
    assert sample(metrics, "consumer_lag_records", consumer=NAME, partition=f"{PREFIX}{USAGE}:0") == 6
