"""Handlers of usage-ingest's commands."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from tangible_ingest.domain.commands import IngestBatch, PruneDedupKeys
from tangible_ingest.domain.model import (
    EventResult,
    IngestReport,
    Outcome,
    UsageEvent,
    classify,
)
from tangible_ingest.service_layer.unit_of_work import UnitOfWork
from tangible_runtime.domain import Clock


class Publisher(Protocol):
    async def publish(self, tenant_id: str, events: list[UsageEvent]) -> None: ...


async def ingest_batch(
    command: IngestBatch, *, uow: UnitOfWork, publisher: Publisher, clock: Clock
) -> IngestReport:
    """Publish what is new, then claim its dedup keys. Claiming after the acknowledgement
    means a failed publish leaves the keys free, so the producer's retry counts once."""
    results = [EventResult(r.index, r.id, Outcome.REJECTED, r.reasons) for r in command.rejections]
    async with uow:
        known = await uow.dedup.known_hashes(command.tenant_id, command.events)
        batch = classify(command.events, known)
        results.extend(batch.results)
        await publisher.publish(command.tenant_id, batch.fresh)
        claimed = await uow.dedup.claim(command.tenant_id, batch.fresh, clock.now())
        await uow.commit()
    raced = [e for e in batch.fresh if e.dedup_key not in claimed]
    results.extend(
        EventResult(e.index, e.id, Outcome.ACCEPTED) for e in batch.fresh if e.dedup_key in claimed
    )
    if raced:
        results.extend(await _settle_races(command.tenant_id, raced, uow))
    results.sort(key=lambda r: r.index)
    return IngestReport(results)


async def _settle_races(tenant_id: str, raced: list[UsageEvent], uow: UnitOfWork) -> list[EventResult]:
    """A concurrent request claimed the same key first. Our copy carries the same stable
    wire id, so downstream keeps only one; report it as the winner's hash says."""
    async with uow:
        known = await uow.dedup.known_hashes(tenant_id, raced)
    settled = classify(raced, known)
    return settled.results + [EventResult(e.index, e.id, Outcome.DUPLICATE) for e in settled.fresh]


async def prune_dedup_keys(command: PruneDedupKeys, *, uow: UnitOfWork, clock: Clock) -> int:
    cutoff = clock.now() - timedelta(days=command.retention_days)
    pruned = 0
    while True:
        async with uow:
            deleted = await uow.dedup.prune(cutoff)
            await uow.commit()
        pruned += deleted
        if deleted == 0:
            return pruned
