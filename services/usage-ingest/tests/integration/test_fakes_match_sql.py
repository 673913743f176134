"""The handler tests' in-memory dedup store (tests/unit/fakes.py) does what the SQL one does:
one scenario through the handlers on each, the same results, publications and stored keys.

Kafka is the fake publisher in both runs: the SQL dedup store is what is checked here (the
Kafka publisher has its own contract test)."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

# tests/unit imported under its own name, as its conftest does (this folder does not load it)
_unit = types.ModuleType("ingest_unit")
_unit.__path__ = [str(Path(__file__).parents[1] / "unit")]
sys.modules.setdefault("ingest_unit", _unit)

from ingest_unit.fakes import FakePublisher, FakeUnitOfWork, Store  # noqa: E402

from tangible_ingest.domain.commands import PruneDedupKeys  # noqa: E402
from tangible_ingest.domain.errors import PublishUnavailable  # noqa: E402
from tangible_ingest.entrypoints.translate import to_command  # noqa: E402
from tangible_ingest.service_layer import handlers  # noqa: E402
from tangible_ingest.service_layer.ports import UnitOfWork  # noqa: E402
from tangible_ingest.service_layer.unit_of_work import UnitOfWork as SqlUnitOfWork  # noqa: E402
from tangible_runtime.db import create_engine, create_session_factory  # noqa: E402
from tangible_runtime.domain import ManualClock  # noqa: E402

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
NOW = datetime(2026, 11, 26, tzinfo=UTC)  # fixed date: a ManualClock's, never the wall clock's
NewUow = Callable[[], UnitOfWork]


def _event(event_id: str, **data: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id, "source": "s", "type": "t", "subject": "a1", "data": data}


async def scenario(uow: NewUow) -> list[Any]:
    """Batches with an id repeated within the batch, replayed, and replayed with another
    payload (a conflict), a rejected item, a publish that fails and its retry, then pruning;
    what the handlers return, what was published and which keys the store then knows."""
    clock, publisher = ManualClock(NOW), FakePublisher()
    seen: list[Any] = []

    async def ingest(*items: Any) -> None:
        command = to_command("t1", list(items), clock.now())
        seen.append(await handlers.ingest_batch(command, uow=uow(), publisher=publisher, clock=clock))

    await ingest(_event("e1", quantity=1), _event("e2", quantity=2), _event("e1", quantity=1))
    clock.advance(timedelta(days=20))
    await ingest(_event("e2", quantity=2), {"id": "broken"}, _event("e3"), _event("e1", quantity=5))
    await ingest(_event("e3", quantity=1), _event("e3"))  # a conflict, then a duplicate of the stored one
    publisher.available = False
    with pytest.raises(PublishUnavailable) as failed:
        await ingest(_event("e4"), _event("e1", quantity=1))
    seen.append(str(failed.value))
    publisher.available = True
    await ingest(_event("e4"), _event("e1", quantity=1))
    seen.append([(e.id, e.payload_hash) for e in publisher.published])

    every = to_command("t1", [_event(i) for i in ("e1", "e2", "e3", "e4", "e5")], clock.now()).events
    async with uow() as reading:
        known = await reading.dedup.known_hashes(every)
    seen.append(sorted(known.items()))
    clock.advance(timedelta(days=20))
    seen.append(await handlers.prune_dedup_keys(PruneDedupKeys(retention_days=35), uow=uow(), clock=clock))
    async with uow() as reading:
        seen.append(sorted(await reading.dedup.known_hashes(every)))
    await ingest(_event("e1", quantity=9), _event("e2", quantity=9), _event("e4"))  # e1, e2 pruned: new
    return seen


async def test_the_fake_unit_of_work_reads_and_commits_what_the_sql_one_does(
    database_factory: Any, owner_url: Any
) -> None:
    engine = create_engine(owner_url(await database_factory("usage-ingest", MIGRATIONS)), pool_size=2)
    sessions = create_session_factory(engine)
    try:
        on_sql = await scenario(lambda: SqlUnitOfWork(sessions))
    finally:
        await engine.dispose()
    store = Store()

    on_fake = await scenario(lambda: FakeUnitOfWork(store))

    assert repr(on_fake) == repr(on_sql)
