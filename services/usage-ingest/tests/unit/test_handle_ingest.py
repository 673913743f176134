"""ingest_batch and prune_dedup_keys on the in-memory dedup store and publisher: each event
is published once, replays are duplicates, changed payloads conflicts, and a failed publish
leaves no claim behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ingest_unit.fakes import FakePublisher, FakeUnitOfWork, Store

from tangible_ingest.domain.commands import PruneDedupKeys
from tangible_ingest.domain.errors import PublishUnavailable
from tangible_ingest.domain.model import Outcome
from tangible_ingest.entrypoints.translate import to_command
from tangible_ingest.service_layer.handlers import ingest_batch, prune_dedup_keys
from tangible_runtime.domain import ManualClock

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def event(event_id: str = "e1", **data: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id, "source": "s", "type": "t", "subject": "a1", "data": data}


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def ingest(store: Store, publisher: FakePublisher, clock: ManualClock, *items: Any) -> list[Outcome]:
    command = to_command("t1", list(items), clock.now())
    report = await ingest_batch(command, uow=FakeUnitOfWork(store), publisher=publisher, clock=clock)
    return [r.outcome for r in report.results]


async def test_fresh_events_are_published_and_replays_are_duplicates(
    store: Store, publisher: FakePublisher, clock: ManualClock
) -> None:
    first = await ingest(store, publisher, clock, event("e1"), event("e2"), event("e1"))
    replay = await ingest(store, publisher, clock, event("e2"), event("e3"))

    assert first == [Outcome.ACCEPTED, Outcome.ACCEPTED, Outcome.DUPLICATE]
    assert replay == [Outcome.DUPLICATE, Outcome.ACCEPTED]
    assert [e.id for e in publisher.published] == ["e1", "e2", "e3"]


async def test_the_same_id_with_another_payload_is_a_conflict_and_not_published(
    store: Store, publisher: FakePublisher, clock: ManualClock
) -> None:
    await ingest(store, publisher, clock, event("e1", quantity=1))

    outcomes = await ingest(store, publisher, clock, event("e1", quantity=2), event("e1", quantity=1))

    assert outcomes == [Outcome.CONFLICT, Outcome.DUPLICATE]
    assert len(publisher.published) == 1


async def test_rejected_events_keep_their_place_among_the_results(
    store: Store, publisher: FakePublisher, clock: ManualClock
) -> None:
    outcomes = await ingest(store, publisher, clock, event("e1"), {"id": "broken"}, event("e2"))

    assert outcomes == [Outcome.ACCEPTED, Outcome.REJECTED, Outcome.ACCEPTED]


async def test_a_failed_publish_leaves_no_claim_so_the_retry_is_accepted(
    store: Store, publisher: FakePublisher, clock: ManualClock
) -> None:
    publisher.available = False
    with pytest.raises(PublishUnavailable):
        await ingest(store, publisher, clock, event("e1"))
    assert store.keys == {}

    publisher.available = True
    assert await ingest(store, publisher, clock, event("e1")) == [Outcome.ACCEPTED]
    assert [e.id for e in publisher.published] == ["e1"]


async def test_keys_past_retention_are_pruned_and_their_events_count_as_new_again(
    store: Store, publisher: FakePublisher, clock: ManualClock
) -> None:
    await ingest(store, publisher, clock, event("e1"))
    clock.advance(timedelta(days=20))
    await ingest(store, publisher, clock, event("e2"))
    clock.advance(timedelta(days=20))

    pruned = await prune_dedup_keys(PruneDedupKeys(retention_days=35), uow=FakeUnitOfWork(store), clock=clock)

    assert pruned == 1
    assert await ingest(store, publisher, clock, event("e1"), event("e2")) == [
        Outcome.ACCEPTED,
        Outcome.DUPLICATE,
    ]
