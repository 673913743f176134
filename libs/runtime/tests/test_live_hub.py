"""The live follower hands every account its records, whichever partition its key lands on
(it once followed partition 0 of each topic only: five accounts in six saw nothing)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from decimal import Decimal

import pytest

from tangible_runtime.kafka import KafkaClients
from tangible_runtime.live import LiveHub, LiveRecord
from tangible_runtime.settings import KafkaSettings
from tangible_schemas import new_event, to_record
from tangible_schemas.registry import REWARDS
from tangible_schemas.rewards import CreditsAdjusted

pytestmark = pytest.mark.integration


async def test_the_hub_follows_every_partition_of_its_topics(kafka_settings: KafkaSettings) -> None:
    clients = KafkaClients(kafka_settings)
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    hub = LiveHub(clients, [REWARDS.name])
    follower = asyncio.create_task(hub.run())
    try:
        await asyncio.wait_for(hub.ready.wait(), 60)
        assert len(hub._partitions[REWARDS.name]) == REWARDS.partitions
        accounts: dict[int, str] = {}  # one account per partition
        k = 0
        while len(accounts) < REWARDS.partitions:
            account = f"acct-{k}"
            accounts.setdefault(hub.partition_of(REWARDS.name, tenant, account), account)
            k += 1
        with contextlib.ExitStack() as stack:
            subscriptions = {
                partition: stack.enter_context(hub.subscribe(tenant, account))
                for partition, account in accounts.items()
            }
            producer = clients.producer()
            await producer.start()
            try:
                for account in accounts.values():
                    data = CreditsAdjusted(
                        tenant_id=tenant,
                        account_id=account,
                        transaction_id=str(uuid.uuid4()),
                        amount=Decimal(1),
                        balance_after=Decimal(1),
                        actor="test",
                        reason="test",
                    )
                    record = to_record(new_event(data, source="test"))
                    await producer.send_and_wait(
                        clients.topic(record.topic),
                        value=record.value,
                        key=record.key,
                        headers=record.headers,
                    )
            finally:
                await producer.stop()
            for partition, subscription in subscriptions.items():
                live: LiveRecord = await asyncio.wait_for(subscription.queue.get(), 30)
                assert (live.partition, live.account_id) == (partition, accounts[partition])
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
