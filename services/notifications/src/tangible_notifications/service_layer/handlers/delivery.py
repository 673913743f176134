"""The delivery worker's handler: claim due deliveries, send them, record every attempt.

Three short steps, none holding a transaction across the network: claim (a lease, with
SKIP LOCKED, so replicas never send the same delivery at once), send concurrently, then
record outcomes fenced by attempt number. A sender that dies mid-send loses its lease and
another replica sends again: at-least-once, which receivers dedupe on `webhook-id`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.trace import SpanKind
from sqlalchemy.engine import RowMapping
from tenacity import AsyncRetrying, retry_if_exception, stop_before_delay, wait_exponential_jitter

from tangible_notifications.adapters.secrets import SecretBox
from tangible_notifications.adapters.smtp import EmailSender, build_message
from tangible_notifications.adapters.webhooks import WebhookSender
from tangible_notifications.domain.model import Endpoint
from tangible_notifications.domain.retry import AttemptResult, Outcome, RetryPolicy
from tangible_notifications.service_layer import translate
from tangible_notifications.service_layer.endpoints import disable_endpoint
from tangible_notifications.service_layer.unit_of_work import UnitOfWork
from tangible_runtime.domain import Clock
from tangible_runtime.errors import is_transient
from tangible_runtime.telemetry import context_from_headers, current_trace_headers, tracer


@dataclass
class Senders:
    webhook: WebhookSender
    email: EmailSender
    secrets: SecretBox
    policy: RetryPolicy
    smtp_from: str
    disable_after: timedelta
    lease: timedelta


@dataclass(frozen=True)
class Job:
    delivery: RowMapping
    notification: RowMapping
    endpoint: Endpoint | None
    secrets: list[str]


def webhook_body(notification: RowMapping) -> str:
    """The same bytes on every attempt: the signature covers them, receivers dedupe on the id."""
    context = notification["context"] or {}
    payload = {
        "type": notification["event_type"],
        "timestamp": notification["created_at"].astimezone(UTC).isoformat(),
        "data": {
            "notification_id": notification["id"],
            "account_id": notification["account_id"],
            "user_id": notification["user_id"],
            "title": notification["title"],
            "body": notification["body"],
            "category": notification["category"],
            "priority": notification["priority"],
            "source_event_id": notification["source_event_id"],
            "event": {"id": notification["source_event_id"], "type": notification["event_type"]}
            | {"data": context.get("data", {})},
        },
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str)


@dataclass(frozen=True)
class Sent:
    result: AttemptResult
    trace_headers: list[tuple[str, bytes]]  # of the send span: its outcome event follows it


async def _send(job: Job, senders: Senders, now: datetime) -> AttemptResult:
    d, n, endpoint = job.delivery, job.notification, job.endpoint
    if d["channel"] == "webhook":
        if endpoint is None or not endpoint.enabled or not endpoint.url:
            return AttemptResult(Outcome.REJECTED, error="endpoint disabled or deleted")
        if not job.secrets:
            return AttemptResult(Outcome.FAILED, error="no active secret could be decrypted")
        # the service clock (the wall clock in production): receivers check webhook-timestamp
        # against their own clock, so it is read at the attempt, not when the round began
        return await senders.webhook.send(
            url=endpoint.url,
            msg_id=d["id"],
            timestamp=now,
            body=webhook_body(n),
            secrets=job.secrets,
        )
    if d["channel"] == "email":
        sender = (endpoint.sender if endpoint else None) or senders.smtp_from
        message = build_message(
            sender=sender,
            to=d["target"],
            subject=n["title"],
            text=n["body"],
            html=n["html"] or "",
            message_id=d["id"],
        )
        return await senders.email.send(message)
    return AttemptResult(Outcome.REJECTED, error=f"unknown channel {d['channel']}")


async def _traced_send(job: Job, senders: Senders, clock: Clock) -> Sent:
    """One attempt as a span in the trace of the event that made the notification."""
    d, n = job.delivery, job.notification
    carrier = (n["context"] or {}).get("trace") or {}
    parent = context_from_headers((k, str(v).encode()) for k, v in carrier.items())
    attributes = {"tangible.delivery.id": d["id"], "tangible.delivery.attempt": d["attempts"]}
    with tracer(__name__).start_as_current_span(
        f"send {d['channel']}", context=parent, kind=SpanKind.CLIENT, attributes=attributes
    ) as span:
        result = await _send(job, senders, clock.now())
        span.set_attribute("tangible.delivery.outcome", result.outcome.value)
        if result.status_code is not None:
            span.set_attribute("http.response.status_code", result.status_code)
        return Sent(result, current_trace_headers())


async def _claim(uow: UnitOfWork, senders: Senders, now: datetime, limit: int) -> list[Job]:
    async with uow:
        claimed = await uow.deliveries.claim_due(now, now + senders.lease, limit)
        notifications = await uow.notifications.by_ids([d["notification_id"] for d in claimed])
        endpoints = await uow.channels.by_ids({d["channel_id"] for d in claimed if d["channel_id"]})
        webhook_ids = [d["channel_id"] for d in claimed if d["channel"] == "webhook" and d["channel_id"]]
        stored = await uow.channels.active_secrets(webhook_ids, now)
        await uow.commit()
    jobs: list[Job] = []
    for d in claimed:
        secrets: list[str] = []
        for secret in stored.get(d["channel_id"], []):
            try:
                secrets.append(senders.secrets.decrypt(secret.ciphertext))
            except Exception:  # a secret sealed with a retired key: sign with the others
                continue
        jobs.append(
            Job(d, notifications[d["notification_id"]], endpoints.get(d["channel_id"] or ""), secrets)
        )
    return jobs


def _finish_row(
    d: RowMapping, result: AttemptResult, status: str, next_at: datetime | None, now: datetime
) -> dict[str, Any]:
    return {
        "id": d["id"],
        "attempt": d["attempts"],
        "status": status,
        "next_attempt_at": next_at,
        "last_error": result.error,
        "status_code": result.status_code,
        "delivered_at": now if status == "succeeded" else None,
    }


async def _record(
    uow: UnitOfWork, senders: Senders, jobs: list[Job], sent: list[Sent], now: datetime
) -> None:
    results = [s.result for s in sent]
    traces = {job.delivery["id"]: s.trace_headers for job, s in zip(jobs, sent, strict=True)}
    async with uow:
        finish = [
            _finish_row(job.delivery, result, *_next(senders, job, result, now), now)
            for job, result in zip(jobs, results, strict=True)
        ]
        recorded = await uow.deliveries.finish(finish)
        # a sender whose lease was taken over records nothing: the newer attempt speaks
        kept = [
            (job, result, row)
            for job, result, row in zip(jobs, results, finish, strict=True)
            if row["id"] in recorded
        ]
        await uow.deliveries.log_attempts(
            [
                {
                    "delivery_id": job.delivery["id"],
                    "number": job.delivery["attempts"],
                    "attempted_at": now,
                    "outcome": result.outcome.value,
                    "status_code": result.status_code,
                    "error": result.error,
                    "duration_ms": result.duration_ms,
                }
                for job, result, _ in kept
            ]
        )
        for job, result, row in kept:
            d, n = job.delivery, job.notification
            trace = traces[d["id"]]
            if row["status"] == "succeeded":
                event = translate.delivered(d, n["source_event_id"], d["attempts"])
                uow.outbox.add(event, trace_headers=trace)
            elif row["status"] == "failed":
                error = result.error or "failed"
                uow.outbox.add(
                    translate.failed(d, n["source_event_id"], d["attempts"], error), trace_headers=trace
                )
        await uow.notifications.set_status(
            [r["id"] for _, _, r in kept if r["status"] == "succeeded"], "delivered"
        )
        await uow.notifications.set_status([r["id"] for _, _, r in kept if r["status"] == "failed"], "failed")
        healthy = {
            j.delivery["channel_id"]
            for j, _, r in kept
            if r["status"] == "succeeded" and j.delivery["channel_id"]
        }
        await _endpoint_health(
            uow, senders, [j for j, _, _ in kept], [res for _, res, _ in kept], healthy, now
        )
        await uow.commit()


def _next(senders: Senders, job: Job, result: AttemptResult, now: datetime) -> tuple[str, datetime | None]:
    """(status, next attempt) after one attempt."""
    if result.outcome is Outcome.SUCCEEDED:
        return "succeeded", None
    if result.outcome is not Outcome.FAILED:
        return "failed", None
    next_at = senders.policy.next_attempt(
        attempt=job.delivery["attempts"],
        series_started_at=job.delivery["series_started_at"],
        now=now,
        retry_after=result.retry_after,
    )
    return ("pending", next_at) if next_at is not None else ("failed", None)


async def _endpoint_health(
    uow: UnitOfWork,
    senders: Senders,
    jobs: list[Job],
    results: list[AttemptResult],
    healthy: set[str],
    now: datetime,
) -> None:
    """410 disables an endpoint at once; failing without a success for `disable_after` too."""
    for channel_id in healthy:
        await uow.channels.update_by_id(channel_id, failing_since=None)
    handled: set[str] = set()
    for job, result in zip(jobs, results, strict=True):
        endpoint = job.endpoint
        if job.delivery["channel"] != "webhook" or endpoint is None or not endpoint.enabled:
            continue
        if endpoint.id in healthy or endpoint.id in handled:
            continue
        if result.outcome is Outcome.GONE:
            handled.add(endpoint.id)
            await disable_endpoint(uow, endpoint, "gone: the receiver answered 410", now)
        elif result.outcome is Outcome.FAILED:
            handled.add(endpoint.id)
            since = await uow.channels.mark_failing(endpoint.id, now)
            if now - since >= senders.disable_after:
                days = senders.disable_after.total_seconds() / 86400
                await disable_endpoint(uow, endpoint, f"failing for {days:g} days", now)


async def deliver_due(
    *, new_uow: Callable[[], UnitOfWork], senders: Senders, clock: Clock, limit: int
) -> int:
    """One round: returns how many deliveries were attempted."""
    now = clock.now()
    jobs = await _claim(new_uow(), senders, now, limit)
    if not jobs:
        return 0
    sent = list(await asyncio.gather(*(_traced_send(job, senders, clock) for job in jobs)))
    # the receivers have answered: a database blip must not throw their answers away (each
    # acknowledged webhook would be sent again once the lease lapses), so retry the record
    # while the lease still fences it; the attempt number fences a late record anyway
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(is_transient),
        wait=wait_exponential_jitter(multiplier=0.2, max=2),
        stop=stop_before_delay(senders.lease.total_seconds() / 2),
        reraise=True,
    ):
        with attempt:
            await _record(new_uow(), senders, jobs, sent, clock.now())
    return len(jobs)
