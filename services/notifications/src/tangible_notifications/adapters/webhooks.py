"""Webhook sender per Standard Webhooks: signed with every active secret, no redirects."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

import httpx
from standardwebhooks.webhooks import Webhook

from tangible_notifications.adapters.ssrf import Unresolvable, resolve
from tangible_notifications.domain.errors import TargetRefused
from tangible_notifications.domain.retry import AttemptResult, Outcome, classify_status, parse_retry_after


def signature_header(msg_id: str, timestamp: datetime, body: str, secrets: Sequence[str]) -> str:
    """`v1,<sig>` per secret, space-separated: during a rotation both secrets sign."""
    return " ".join(Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets)


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient, *, allow_private: bool) -> None:
        self._client = client
        self._allow_private = allow_private

    async def send(
        self, *, url: str, msg_id: str, timestamp: datetime, body: str, secrets: Sequence[str]
    ) -> AttemptResult:
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        try:
            target = await resolve(url, allow_private=self._allow_private)
        except Unresolvable as error:
            return AttemptResult(Outcome.FAILED, error=error.message, duration_ms=elapsed())
        except TargetRefused as error:
            return AttemptResult(Outcome.REFUSED, error=error.message, duration_ms=elapsed())
        pinned_url, host, extensions = target.pinned()
        headers = {
            **host,
            "content-type": "application/json",
            "user-agent": "tangible-notifications/0.1",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature_header(msg_id, timestamp, body, secrets),
        }
        try:
            response = await self._client.post(
                pinned_url,
                content=body.encode(),
                headers=headers,
                extensions=extensions,
                follow_redirects=False,
            )
        except httpx.HTTPError as error:
            return AttemptResult(
                Outcome.FAILED, error=f"{type(error).__name__}: {error}"[:500], duration_ms=elapsed()
            )
        outcome = classify_status(response.status_code)
        return AttemptResult(
            outcome,
            status_code=response.status_code,
            error=None if outcome is Outcome.SUCCEEDED else f"HTTP {response.status_code}",
            retry_after=parse_retry_after(response.headers.get("retry-after"), timestamp),
            duration_ms=elapsed(),
        )
