"""Outages: 503 with Retry-After, nothing half-accepted, the retry counts once.

The broker test runs its own Kafka broker (a local JVM on free ports) so that it can stop
and restart it without disturbing the broker every other test shares.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tangible_devstack.kafka import KafkaBroker
from tangible_devstack.processes import free_port
from tangible_devstack.testing import eventually, running
from tangible_ingest.bootstrap import bootstrap
from tangible_ingest.config import Settings
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import KafkaSettings

pytestmark = pytest.mark.integration

Event = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    broker = KafkaBroker(
        tmp_path_factory.mktemp("outage-kafka"), port=free_port(), controller_port=free_port()
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def test_a_broker_outage_is_a_503_and_the_retry_is_accepted_exactly_once(
    own_broker: KafkaBroker,
    start_ingest: Any,
    ingest_headers: dict[str, str],
    event: Event,
    read_usage: Any,
) -> None:
    kafka = KafkaSettings(
        bootstrap_servers=own_broker.bootstrap_servers,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        publish_timeout_seconds=3,
    )
    clients = KafkaClients(kafka)
    await clients.wait_until_reachable()
    await clients.ensure_topics()
    retry_after = 7

    async with start_ingest(
        kafka=kafka, retry_after_seconds=retry_after, max_unacknowledged_events=20
    ) as ingest:
        warm_up = await ingest.post("/v1/events", json=[event()], headers=ingest_headers)
        assert warm_up.status_code == 202
        batch = [event(subject=f"acct-{n}") for n in range(30)]

        await asyncio.to_thread(own_broker.stop)
        refused = await ingest.post("/v1/events", json=batch, headers=ingest_headers)
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == str(retry_after)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("broker-unavailable")
        # 30 records now wait in the producer, over the bound of 20: other events are
        # refused at once instead of piling up behind them
        others = await ingest.post("/v1/events", json=[event() for _ in range(5)], headers=ingest_headers)
        assert others.status_code == 503
        assert "waiting for Kafka" in others.json()["detail"]

        await asyncio.to_thread(own_broker.start)

        async def retried() -> list[str]:
            response = await ingest.post("/v1/events", json=batch, headers=ingest_headers)
            assert response.status_code == 202, response.text
            return [r["status"] for r in response.json()["results"]]

        # the 503 left every key free: the retry is accepted, not reported as duplicate
        assert await eventually(retried, timeout=120, interval=1.0) == ["accepted"] * len(batch)
        replay = await ingest.post("/v1/events", json=batch, headers=ingest_headers)
        assert [r["status"] for r in replay.json()["results"]] == ["duplicate"] * len(batch)

    records = await read_usage(kafka)
    copies = Counter(dict(record.headers)["ce_id"] for record in records)
    assert len(copies) == 1 + len(batch)
    assert set(copies.values()) == {1}  # the records the failed publish left were not sent twice


async def test_an_unreachable_dedup_store_is_a_503_not_a_500(
    ingest_settings: Settings, ingest_headers: dict[str, str], event: Event
) -> None:
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/usage_ingest"
    settings = ingest_settings.model_copy(update={"database_url": nowhere, "retry_after_seconds": 3})
    async with running(bootstrap(settings, configure_logs=False)) as ingest:
        response = await ingest.post("/v1/events", json=[event()], headers=ingest_headers)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "3"
        assert response.json()["type"].endswith("store-unavailable")
        readiness = (await ingest.get("/readyz")).json()
        assert readiness["checks"]["database"].startswith("failed")
