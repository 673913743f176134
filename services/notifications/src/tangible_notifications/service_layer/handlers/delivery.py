"""The delivery worker's handler: claim due deliveries, send them, record every attempt.

Three short steps, none holding a transaction across the network: claim (a lease, with
SKIP LOCKED, so replicas never send the same delivery at once), send concurrently, then
record outcomes fenced by attempt number. A sender that dies mid-send loses its lease and
another replica sends again: at-least-once, which receivers dedupe on `webhook-id`.

What a channel does with an attempt is its sender's business (adapters behind `Sender`);
this module only picks the sender by channel from those given at bootstrap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from opentelemetry.trace import SpanKind
from tenacity import AsyncRetrying, retry_if_exception, stop_before_delay, wait_exponential_jitter

from tangible_notifications.domain.records import AttemptRecord, FinishedAttempt
from tangible_notifications.domain.retry import AttemptResult, Outcome, RetryPolicy
from tangible_notifications.service_layer import translate
from tangible_notifications.service_layer.endpoints import EndpointHealth, watch_endpoints
from tangible_notifications.service_layer.ports import DeliveryMetrics, Job, NoMetrics, Sender, UnitOfWork
from tangible_runtime.domain import Clock
from tangible_runtime.errors import is_transient
from tangible_runtime.telemetry import context_from_headers, current_trace_headers, tracer


@dataclass(frozen=True)
class Dispatch:
    """How the worker delivers: a sender per channel (a new channel is a new adapter given
    here at bootstrap), when to retry, when a failing endpoint is disabled, the lease."""

    senders: Mapping[str, Sender]
    policy: RetryPolicy
    disable_after: timedelta
    lease: timedelta
    metrics: DeliveryMetrics = field(default_factory=NoMetrics)


@dataclass(frozen=True)
class Sent:
    job: Job
    result: AttemptResult
    trace_headers: list[tuple[str, bytes]]  # of the send span: its outcome event follows it


async def _send(job: Job, dispatch: Dispatch, clock: Clock) -> Sent:
    """One attempt as a span in the trace of the event that made the notification."""
    d = job.delivery
    carrier = job.notification.context.get("trace") or {}
    parent = context_from_headers((k, str(v).encode()) for k, v in carrier.items())
    attributes: dict[str, str | int] = {"tangible.delivery.id": d.id, "tangible.delivery.attempt": d.attempts}
    with tracer(__name__).start_as_current_span(
        f"send {d.channel}", context=parent, kind=SpanKind.CLIENT, attributes=attributes
    ) as span:
        sender = dispatch.senders.get(d.channel)
        if sender is None:
            result = AttemptResult(Outcome.REJECTED, error=f"unknown channel {d.channel}")
        else:
            # the service clock (the wall clock in production): receivers check webhook-timestamp
            # against their own clock, so it is read at the attempt, not when the round began
            result = await sender.send(job, clock.now())
        span.set_attribute("tangible.delivery.outcome", result.outcome.value)
        if result.status_code is not None:
            span.set_attribute("http.response.status_code", result.status_code)
        return Sent(job, result, current_trace_headers())


async def _claim(uow: UnitOfWork, dispatch: Dispatch, now: datetime, limit: int) -> list[Job]:
    async with uow:
        claimed = await uow.deliveries.claim_due(now, now + dispatch.lease, limit)
        notifications = await uow.notifications.by_ids([d.notification_id for d in claimed])
        channel_ids = {d.channel_id for d in claimed if d.channel_id}
        endpoints = await uow.channels.by_ids(channel_ids)
        secrets = await uow.channels.active_secrets(channel_ids, now)
        await uow.commit()
    return [
        Job(
            d,
            notifications[d.notification_id],
            endpoints.get(d.channel_id or ""),
            tuple(s.ciphertext for s in secrets.get(d.channel_id or "", [])),
        )
        for d in claimed
    ]


def _finished(sent: Sent, dispatch: Dispatch, now: datetime) -> FinishedAttempt:
    """What one attempt leaves on its delivery: done, failed for good, or due again."""
    d, result = sent.job.delivery, sent.result
    status, next_at = "failed", None
    if result.outcome is Outcome.SUCCEEDED:
        status = "succeeded"
    elif result.outcome is Outcome.FAILED:
        next_at = dispatch.policy.next_attempt(
            attempt=d.attempts,
            series_started_at=d.series_started_at or now,
            now=now,
            retry_after=result.retry_after,
        )
        status = "pending" if next_at is not None else "failed"
    return FinishedAttempt(
        id=d.id,
        attempt=d.attempts,
        status=status,
        next_attempt_at=next_at,
        last_error=result.error,
        status_code=result.status_code,
        delivered_at=now if status == "succeeded" else None,
    )


async def _record(uow: UnitOfWork, dispatch: Dispatch, sent: list[Sent], now: datetime) -> list[str]:
    """Records the outcomes; returns why each endpoint it disabled was disabled."""
    async with uow:
        finished = [_finished(s, dispatch, now) for s in sent]
        recorded = await uow.deliveries.finish(finished)
        # a sender whose lease was taken over records nothing: the newer attempt speaks
        kept = [(s, f) for s, f in zip(sent, finished, strict=True) if f.id in recorded]
        await uow.deliveries.log_attempts(
            [
                AttemptRecord(
                    delivery_id=f.id,
                    number=f.attempt,
                    attempted_at=now,
                    outcome=s.result.outcome.value,
                    status_code=s.result.status_code,
                    error=s.result.error,
                    duration_ms=s.result.duration_ms,
                )
                for s, f in kept
            ]
        )
        for s, f in kept:
            d, source = s.job.delivery, s.job.notification.source_event_id
            if f.status == "succeeded":
                uow.outbox.add(translate.delivered(d, source, d.attempts), trace_headers=s.trace_headers)
            elif f.status == "failed":
                event = translate.failed(d, source, d.attempts, s.result.error or "failed")
                uow.outbox.add(event, trace_headers=s.trace_headers)
        await uow.notifications.set_status([f.id for _, f in kept if f.status == "succeeded"], "delivered")
        await uow.notifications.set_status([f.id for _, f in kept if f.status == "failed"], "failed")
        health = [
            EndpointHealth(s.job.endpoint, s.result.outcome, _watches(dispatch, s.job))
            for s, _ in kept
            if s.job.endpoint is not None
        ]
        disabled = await watch_endpoints(uow, health, dispatch.disable_after, now)
        await uow.commit()
    return list(disabled)


def _watches(dispatch: Dispatch, job: Job) -> bool:
    sender = dispatch.senders.get(job.delivery.channel)
    return sender is not None and sender.watches_endpoint


async def deliver_due(
    *, new_uow: Callable[[], UnitOfWork], dispatch: Dispatch, clock: Clock, limit: int
) -> int:
    """One round: returns how many deliveries were attempted."""
    now = clock.now()
    jobs = await _claim(new_uow(), dispatch, now, limit)
    if not jobs:
        return 0
    sent = list(await asyncio.gather(*(_send(job, dispatch, clock) for job in jobs)))
    # the receivers have answered: a database blip must not throw their answers away (each
    # acknowledged webhook would be sent again once the lease lapses), so retry the record
    # while the lease still fences it; the attempt number fences a late record anyway
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(is_transient),
        wait=wait_exponential_jitter(multiplier=0.2, max=2),
        stop=stop_before_delay(dispatch.lease.total_seconds() / 2),
        reraise=True,
    ):
        with attempt:
            disabled = await _record(new_uow(), dispatch, sent, clock.now())
    # counted after the commit, so a retried record does not count an endpoint twice
    for reason in disabled:
        dispatch.metrics.endpoint_disabled(reason)
    return len(jobs)
