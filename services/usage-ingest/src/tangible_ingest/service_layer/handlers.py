"""Handlers of usage-ingest's commands."""

from __future__ import annotations

from datetime import timedelta

from tangible_ingest.domain.commands import IngestBatch, PruneDedupKeys
from tangible_ingest.domain.model import (
    EventResult,
    IngestReport,
    Outcome,
    classify,
    first_occurrences,
)
from tangible_ingest.service_layer.ports import Publisher, UnitOfWork
from tangible_runtime.domain import Clock


async def ingest_batch(
    command: IngestBatch, *, uow: UnitOfWork, publisher: Publisher, clock: Clock
) -> IngestReport:
    """Claim the new keys, publish their events, commit only once Kafka acknowledged.

    One statement claims every key of the batch; its rows stay uncommitted while the
    events are published, so a failed publish rolls the claim back and the producer's
    retry counts once, and a concurrent request carrying the same key waits for this
    one instead of publishing the event a second time."""
    results = [EventResult(r.index, r.id, Outcome.REJECTED, r.reasons) for r in command.rejections]
    tenant_id = command.tenant_id
    async with uow:
        unique = first_occurrences(command.events)
        taken = await uow.dedup.claim(unique, clock.now())
        known = await uow.dedup.known_hashes([e for e in unique if e.dedup_key in taken])
        batch = classify(command.events, taken, known)
        if batch.fresh:
            await publisher.publish(tenant_id, batch.fresh)
            await uow.commit()
    results.extend(batch.results)
    results.extend(EventResult(e.index, e.id, Outcome.ACCEPTED) for e in batch.fresh)
    results.sort(key=lambda r: r.index)
    return IngestReport(results)


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
