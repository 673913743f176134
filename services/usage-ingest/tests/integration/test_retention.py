"""Dedup keys are kept for the retention period, then pruned."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tangible_ingest.config import Settings
from tangible_ingest.domain.commands import PruneDedupKeys
from tangible_ingest.service_layer.handlers import prune_dedup_keys
from tangible_ingest.service_layer.unit_of_work import UnitOfWork
from tangible_runtime.db import create_engine, create_session_factory
from tangible_runtime.domain import ManualClock

pytestmark = pytest.mark.integration

Event = Callable[..., dict[str, Any]]


async def test_keys_past_retention_are_pruned_and_younger_ones_still_deduplicate(
    start_ingest: Any,
    ingest_settings: Settings,
    clock: ManualClock,
    ingest_headers: dict[str, str],
    event: Event,
) -> None:
    old, young = event(), event()
    engine = create_engine(ingest_settings.database_url, pool_size=1)
    try:
        async with start_ingest(clock=clock) as ingest:
            assert (await ingest.post("/v1/events", json=[old], headers=ingest_headers)).status_code == 202
            clock.advance(timedelta(days=ingest_settings.dedup_retention_days - 1))
            assert (await ingest.post("/v1/events", json=[young], headers=ingest_headers)).status_code == 202
            clock.advance(timedelta(days=2))  # old is past retention, young is not

            uow = UnitOfWork(create_session_factory(engine))
            pruned = await prune_dedup_keys(
                PruneDedupKeys(ingest_settings.dedup_retention_days), uow=uow, clock=clock
            )
            assert pruned == 1

            response = await ingest.post("/v1/events", json=[old, young], headers=ingest_headers)
            assert [r["status"] for r in response.json()["results"]] == ["accepted", "duplicate"]
    finally:
        await engine.dispose()
