"""usage-ingest's scheduled work: pruning expired dedup keys."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tangible_ingest.domain.commands import PruneDedupKeys
from tangible_ingest.entrypoints.dependencies import Container
from tangible_ingest.service_layer.handlers import prune_dedup_keys
from tangible_runtime.logs import get_logger
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_runtime.telemetry import scheduled_span

log = get_logger(__name__)


def dedup_pruner(runtime: ServiceRuntime, container: Container, *, every: timedelta) -> Worker:
    """Deletes keys past retention; safe on several replicas (plain DELETEs of old rows)."""

    async def run() -> None:
        while True:
            with scheduled_span("usage-ingest prune dedup keys"):
                pruned = await prune_dedup_keys(
                    PruneDedupKeys(container.settings.dedup_retention_days),
                    uow=container.new_uow(),
                    clock=container.clock,
                )
            if pruned:
                log.info("dedup_keys_pruned", count=pruned)
            await asyncio.sleep(every.total_seconds())

    return Worker("dedup-pruner", run)
