"""Webhook sender per Standard Webhooks: signed with every active secret, no redirects.

The body is built here, the same bytes on every attempt: the signature covers them and
receivers dedupe on `webhook-id` (the delivery's id)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from tangible_notifications.adapters.secrets import SecretBox
from tangible_notifications.adapters.ssrf import Unresolvable, resolve
from tangible_notifications.domain.errors import TargetRefused
from tangible_notifications.domain.records import StoredNotification
from tangible_notifications.domain.retry import AttemptResult, Outcome, classify_status, parse_retry_after
from tangible_notifications.service_layer.ports import Job


def signature_header(msg_id: str, timestamp: datetime, body: str, secrets: Sequence[str]) -> str:
    """`v1,<sig>` per secret, space-separated: during a rotation both secrets sign."""
    return " ".join(Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets)


def webhook_body(n: StoredNotification) -> str:
    payload = {
        "type": n.event_type,
        "timestamp": n.created_at.astimezone(UTC).isoformat(),
        "data": {
            "notification_id": n.id,
            "account_id": n.account_id,
            "user_id": n.user_id,
            "title": n.title,
            "body": n.body,
            "category": n.category,
            "priority": n.priority,
            "source_event_id": n.source_event_id,
            "event": {"id": n.source_event_id, "type": n.event_type, "data": n.context.get("data", {})},
        },
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str)


class WebhookSender:
    """The webhook channel's `Sender`: a receiver that keeps failing gets its endpoint disabled."""

    watches_endpoint = True

    def __init__(self, client: httpx.AsyncClient, box: SecretBox, *, allow_private: bool) -> None:
        self._client = client
        self._box = box
        self._allow_private = allow_private

    def _secrets(self, sealed: Sequence[str]) -> list[str]:
        secrets: list[str] = []
        for ciphertext in sealed:
            try:
                secrets.append(self._box.decrypt(ciphertext))
            except Exception:  # a secret sealed with a retired key: sign with the others
                continue
        return secrets

    async def send(self, job: Job, now: datetime) -> AttemptResult:
        endpoint = job.endpoint
        if endpoint is None or not endpoint.enabled or not endpoint.url:
            return AttemptResult(Outcome.REJECTED, error="endpoint disabled or deleted")
        secrets = self._secrets(job.secrets)
        if not secrets:
            return AttemptResult(Outcome.FAILED, error="no active secret could be decrypted")
        body = webhook_body(job.notification)
        return await self.post(
            url=endpoint.url, msg_id=job.delivery.id, timestamp=now, body=body, secrets=secrets
        )

    async def post(
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
