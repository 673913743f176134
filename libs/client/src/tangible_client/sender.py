"""Sends one batch to `POST /v1/events`, retrying transient failures, and reports per event."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import httpx

from tangible_client.events import EncodedEvent, encode_batch
from tangible_client.reports import DeliveryReport, DeliveryStatus, Reason
from tangible_client.responses import problem_reason, reports_for
from tangible_client.retry import (
    RetryableError,
    RetryPolicy,
    Sleep,
    is_retryable_status,
    is_throttled,
    retry_after,
)

log = logging.getLogger("tangible_client")

EVENTS_PATH = "/v1/events"
BATCH_MEDIA_TYPE = "application/cloudevents-batch+json"


class BatchSender:
    """One batch in, one DeliveryReport per event out; never raises for HTTP outcomes."""

    def __init__(self, http: httpx.AsyncClient, policy: RetryPolicy, sleep: Sleep = asyncio.sleep) -> None:
        self._http = http
        self._policy = policy
        self._sleep = sleep

    async def send(self, events: Sequence[EncodedEvent]) -> list[DeliveryReport]:
        """Deliver `events`, splitting the batch in halves if the server finds it too large."""
        body = encode_batch(events)
        attempts = 0
        try:
            async for attempt in self._policy.retrying(self._sleep):
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    response = await self._post(body)
        except RetryableError as error:
            log.warning("giving up on %d events after %d attempts: %s", len(events), attempts, error)
            return [DeliveryReport(e.id, DeliveryStatus.FAILED, (error.reason,), attempts) for e in events]
        if response.status_code == 413 and len(events) > 1:
            # The server's limits are lower than this client's batching: halve and resend.
            log.warning("usage-ingest refused %d events as too large; splitting the batch", len(events))
            half = len(events) // 2
            return await self.send(events[:half]) + await self.send(events[half:])
        return reports_for(response, events, attempts)

    async def _post(self, body: bytes) -> httpx.Response:
        try:
            response = await self._http.post(
                EVENTS_PATH, content=body, headers={"Content-Type": BATCH_MEDIA_TYPE}
            )
        except httpx.TransportError as error:
            # Includes timeouts after the request was sent: the retry is safe because
            # the ids are unchanged, and an event that did get through comes back "duplicate".
            raise RetryableError(Reason("network-error", f"{type(error).__name__}: {error}")) from error
        if is_retryable_status(response.status_code):
            wait = retry_after(response)
            throttled = is_throttled(response.status_code, wait)
            raise RetryableError(problem_reason(response), wait, throttled=throttled)
        return response
