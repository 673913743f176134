"""Each API replica follows `tangible.rewards.v1` (no consumer group: every replica reads
every partition) and drops what its in-memory view holds for each account an event names;
/readyz waits until it is positioned at the topic's end.

Every rewards event is about one account and keyed by it, so the key is enough: the
payload is not even decoded. Whatever the event (a grant, a redemption, an expiry …), the
next read of that account goes to the database and is kept again.
"""

from __future__ import annotations

from aiokafka import ConsumerRecord, TopicPartition

from tangible_rewards.service_layer.live_view import AccountKey, LiveView
from tangible_runtime.logs import get_logger
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_schemas.binding import parse_record_key
from tangible_schemas.registry import REWARDS

log = get_logger(__name__)


def view_follower(runtime: ServiceRuntime, view: LiveView) -> Worker:
    async def follow() -> None:
        clients = runtime.clients
        topic = clients.topic(REWARDS.name)
        consumer = clients.consumer(group=None, max_poll_records=2000)
        await consumer.start()
        try:
            assignment = [TopicPartition(topic, p) for p in range(REWARDS.partitions)]
            consumer.assign(assignment)
            # from the end: whatever was published before is in the database already, and
            # the view keeps nothing read before it went live (a restart forgets it all)
            for tp, offset in (await consumer.end_offsets(assignment)).items():
                consumer.seek(tp, offset)
            for tp in assignment:
                await consumer.position(tp)
            view.clear()
            view.live = True
            log.info("rewards_view_live")
            while True:
                batches = await consumer.getmany(timeout_ms=100, max_records=2000)
                for records in batches.values():
                    view.invalidate(_accounts(records, view))
        finally:
            view.live = False
            view.clear()
            await consumer.stop()

    async def ready() -> None:
        if not view.live:
            raise RuntimeError("rewards view not following its topic yet")

    runtime.readiness_checks["rewards_view"] = ready
    return Worker("rewards-view", follow)


def _accounts(records: list[ConsumerRecord[bytes, bytes]], view: LiveView) -> set[AccountKey]:
    accounts: set[AccountKey] = set()
    for record in records:
        try:
            accounts.add(parse_record_key(record.key or b""))
        except ValueError:
            # not an account's event: it cannot be told which answer it changes, so none is kept
            log.warning("rewards_view_unkeyed_event", offset=record.offset, partition=record.partition)
            view.clear()
    return accounts
