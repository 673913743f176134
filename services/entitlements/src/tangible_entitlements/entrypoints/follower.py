"""Each API replica follows `tangible.entitlements.v1` (no consumer group: every replica
reads every partition) into its in-memory view; /readyz waits for the cold load and catch-up.

Counter changes (UsageAggregated) and seat counts are applied from the payload; license,
grant and catalog events only name what changed, so the replica re-reads those rows.
"""

from __future__ import annotations

import asyncio
import gc
from datetime import datetime

import orjson
from aiokafka import ConsumerRecord, TopicPartition

from tangible_entitlements.entrypoints.dependencies import Container
from tangible_entitlements.service_layer.live_view import LiveView
from tangible_runtime.logs import get_logger
from tangible_runtime.service import ServiceRuntime, Worker
from tangible_schemas import UndecodableRecord, from_record
from tangible_schemas.binding import event_type_of
from tangible_schemas.entitlements import (
    CatalogChanged,
    SeatAssigned,
    SeatUnassigned,
    UsageAggregated,
)
from tangible_schemas.registry import ENTITLEMENTS

log = get_logger(__name__)

_PREFIX = "tangible.entitlements.v1."
# events after which the replica re-reads the account (license, grants, seats)
_ACCOUNT_EVENTS = {
    _PREFIX + name
    for name in (
        "license_created",
        "license_renewed",
        "license_plan_changed",
        "license_addons_changed",
        "license_status_changed",
        "grant_applied",
        "grant_expired",
        "trial_started",
        "trial_ended",
        "trial_converted",
    )
}
_APPLIED = {UsageAggregated.event_type, SeatAssigned.event_type, SeatUnassigned.event_type}
_WANTED = _ACCOUNT_EVENTS | _APPLIED | {CatalogChanged.event_type}
PRUNE_EVERY = 600.0


def view_follower(runtime: ServiceRuntime, container: Container, view: LiveView) -> Worker:
    async def follow() -> None:
        clients = runtime.clients
        topic = clients.topic(ENTITLEMENTS.name)
        consumer = clients.consumer(group=None, max_poll_records=2000)
        await consumer.start()
        try:
            assignment = [TopicPartition(topic, p) for p in range(ENTITLEMENTS.partitions)]
            consumer.assign(assignment)
            # offsets first, rows second: every change after the snapshot is in what follows
            starts = await consumer.end_offsets(assignment)
            await view.load(container.new_uow(), container.clock.now())
            # the view is long-lived: keep the collector from re-scanning it (shorter pauses)
            gc.collect()
            gc.freeze()
            for tp, offset in starts.items():
                consumer.seek(tp, offset)
            ends = await consumer.end_offsets(assignment)
            loop = asyncio.get_running_loop()
            pruned_at = loop.time()
            while True:
                batches = await consumer.getmany(timeout_ms=100, max_records=2000)
                records = [r for rs in batches.values() for r in rs]
                if records:
                    accounts, tenants = await _apply(records, view, container)
                    if container.changes is not None:
                        container.changes.publish(accounts, tenants)
                if not view.caught_up:
                    positions = {tp: await consumer.position(tp) for tp in assignment}
                    if all(positions[tp] >= ends[tp] for tp in assignment):
                        view.caught_up = True
                        log.info("entitlements_view_ready", accounts=len(view.licenses))
                if loop.time() - pruned_at > PRUNE_EVERY:
                    view.prune(container.clock.now())
                    pruned_at = loop.time()
        finally:
            await consumer.stop()

    async def ready() -> None:
        if not (view.loaded and view.caught_up):
            raise RuntimeError("entitlements view not loaded yet")

    runtime.readiness_checks["entitlements_view"] = ready
    return Worker("entitlements-view", follow)


async def _apply(
    records: list[ConsumerRecord[bytes, bytes]], view: LiveView, container: Container
) -> tuple[set[tuple[str, str]], set[str]]:
    """Applies the records; returns the accounts and the tenants (catalogs) they changed."""
    accounts: set[tuple[str, str]] = set()
    counted: set[tuple[str, str]] = set()
    tenants: set[str] = set()
    for record in records:
        headers = list(record.headers)
        event_type = event_type_of(headers)
        if event_type not in _WANTED:
            continue
        if event_type == UsageAggregated.event_type:  # the busy one: no model validation
            key = _set_counter(view, record.value)
            if key is not None:
                counted.add(key)
            continue
        try:
            data = from_record(headers, record.value).data
        except UndecodableRecord:
            log.warning("undecodable_entitlements_event", event_type=event_type)
            continue
        if isinstance(data, UsageAggregated):
            view.set_counter(
                data.tenant_id,
                data.account_id,
                data.feature_key,
                data.period_start,
                data.period_end,
                data.usage,
            )
            counted.add((data.tenant_id, data.account_id))
        elif isinstance(data, SeatAssigned | SeatUnassigned):
            view.set_seats(data.tenant_id, data.account_id, data.license_id, data.assigned)
            counted.add((data.tenant_id, data.account_id))
        elif isinstance(data, CatalogChanged):
            tenants.add(data.tenant_id)
        else:
            accounts.add((data.tenant_id, data.account_id))  # type: ignore[attr-defined]
    # catalog first: a license may name a version published in the same batch
    await view.reload_catalogs(container.new_uow(), tenants)
    await view.reload_accounts(container.new_uow(), accounts)
    return accounts | counted, tenants


def _set_counter(view: LiveView, value: bytes | None) -> tuple[str, str] | None:
    """UsageAggregated comes from our own outbox, so a plain parse is enough; returns the
    account it changed."""
    try:
        data = orjson.loads(value or b"")
        end = data.get("period_end")
        view.set_counter(
            data["tenant_id"],
            data["account_id"],
            data["feature_key"],
            datetime.fromisoformat(data["period_start"]),
            datetime.fromisoformat(end) if end else None,
            float(data["usage"]),
        )
    except (ValueError, KeyError, TypeError):
        log.warning("undecodable_usage_aggregated")
        return None
    return data["tenant_id"], data["account_id"]
