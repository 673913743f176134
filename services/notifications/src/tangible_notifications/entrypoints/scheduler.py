"""Background workers: the delivery worker (role `delivery`) and the schedules (`scheduler`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tangible_notifications.entrypoints.dependencies import Container
from tangible_notifications.service_layer.handlers.compose import FetchFacts, compose_pending
from tangible_notifications.service_layer.handlers.delivery import Dispatch, deliver_due
from tangible_notifications.service_layer.handlers.reports import SummaryReports
from tangible_notifications.service_layer.handlers.scheduled import send_digests, send_quarterly_summaries
from tangible_runtime.errors import is_transient
from tangible_runtime.logs import get_logger
from tangible_runtime.service import Worker
from tangible_runtime.telemetry import scheduled_span

log = get_logger(__name__)


async def _nap(wake: asyncio.Event, seconds: float) -> None:
    """Until woken or `seconds` passed; the caller clears `wake` before its round, so that
    a wake during the round ends this nap at once."""
    try:
        await asyncio.wait_for(wake.wait(), seconds)
    except TimeoutError:
        pass


async def _guarded(name: str, step: Callable[[], Awaitable[int]]) -> int:
    """A failed round is logged and retried on the next tick; the loop never dies of it.
    Each round is its own trace, so the events it emits carry a traceparent."""
    try:
        with scheduled_span(f"notifications {name}"):
            return await step()
    except asyncio.CancelledError:
        raise
    except Exception as error:
        log.warning(f"{name}_failed", transient=is_transient(error), exc_info=True)
        return 0


def delivery_worker(container: Container, dispatch: Dispatch, fetch: FetchFacts) -> Worker:
    """Composes personalised notifications, then sends what is due; woken in-process by the
    consumer and API, and polling for what other replicas or retries made due."""
    wake = asyncio.Event()
    container.wake_delivery = wake.set
    settings = container.settings
    stopping = False
    summaries = (
        SummaryReports(container.report_sources, container.share_signer, settings.public_url)
        if container.report_sources is not None
        else None
    )

    def stop() -> None:
        """Finish the round in hand: its webhooks may already be acknowledged, and a round
        cancelled before recording them would send each again once its lease lapses."""
        nonlocal stopping
        stopping = True
        wake.set()

    async def run() -> None:
        while not stopping:
            wake.clear()
            composed = await _guarded(
                "compose",
                lambda: compose_pending(
                    uow=container.new_uow(),
                    fetch=fetch,
                    clock=container.clock,
                    limit=settings.compose_batch_size,
                    reports=summaries,
                ),
            )
            sent = await _guarded(
                "deliver",
                lambda: deliver_due(
                    new_uow=container.new_uow,
                    dispatch=dispatch,
                    clock=container.clock,
                    limit=settings.delivery_batch_size,
                ),
            )
            if not stopping and not composed and sent < settings.delivery_batch_size:
                await _nap(wake, settings.delivery_poll_seconds)

    return Worker("delivery", run, stop)


def schedule_worker(container: Container) -> Worker:
    """Digests and quarterly summaries by the injected clock; catches up after downtime."""

    async def run() -> None:
        while True:
            made = await _guarded(
                "digests", lambda: send_digests(uow=container.new_uow(), clock=container.clock)
            )
            made += await _guarded(
                "quarterly", lambda: send_quarterly_summaries(uow=container.new_uow(), clock=container.clock)
            )
            if made:
                container.wake_delivery()
            await asyncio.sleep(container.settings.scheduler_interval_seconds)

    return Worker("schedules", run)
