"""One usage event followed by its trace: ingest request → Kafka → entitlements consumer →
outbox → Kafka → notifications consumer → inbox item and webhook delivery, in a single trace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from cryptography.fernet import Fernet
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from chaos.receiver import WebhookReceiver
from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.scenario import Clients, bearer, inbox_items, provision, send_report_generated
from tangible_devstack.testing import eventually

pytestmark = pytest.mark.integration

ACCOUNT = "acct-traced"
EVERY_CONSUMER = {"entitlements-usage", "rewards-usage", "notifications-events"}


def _attribute(span: ReadableSpan, name: str) -> Any:
    return (span.attributes or {}).get(name)


async def _webhook_rule(system: Clients, admin: str, url: str) -> str:
    """A webhook channel and a rule sending threshold crossings to it; returns its secret."""
    channel = await system.notifications.post(
        "/v1/channels", json={"kind": "webhook", "name": "ops", "url": url}, headers=bearer(admin)
    )
    assert channel.status_code == 201, channel.text
    rule = await system.notifications.post(
        "/v1/rules",
        json={
            "name": "thresholds to ops",
            "event_types": ["tangible.entitlements.v1.threshold_crossed"],
            "channels": ["webhook"],
        },
        headers=bearer(admin),
    )
    assert rule.status_code == 201, rule.text
    return str(channel.json()["secret"])


async def test_one_usage_event_can_be_followed_by_its_trace_across_services(
    start_system: Any, issue_token: IssueToken, tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFICATIONS_SECRETS_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("NOTIFICATIONS_ALLOW_PRIVATE_TARGETS", "true")  # the receiver is on loopback
    exporter = InMemorySpanExporter()
    system: Clients = await start_system(span_processors=[SimpleSpanProcessor(exporter)])
    admin = issue_token(tenant_id, "admin")
    await provision(system, admin, ACCOUNT)
    receiver = WebhookReceiver(failure_rate=0.0)
    await receiver.start()
    try:
        receiver.trust(await _webhook_rule(system, admin, receiver.url))
        exporter.clear()
        sent = await send_report_generated(system, issue_token(tenant_id, "ingest"), ACCOUNT)
        assert sent.response.status_code == 202
        reader = issue_token(tenant_id, "read")

        async def delivered() -> None:
            assert len(await inbox_items(system, reader, ACCOUNT)) == 1
            assert len(receiver.acknowledged) == 1
            # spans end after the work they time: the receiver acknowledges before the send
            # span ends, the rewards consumer may finish after the notification went out, and
            # the notifications consumer's span ends after its commit, which the webhook
            # sender may already have acted on
            finished = exporter.get_finished_spans()
            assert "send webhook" in {s.name for s in finished}
            assert _consumer_groups(finished) >= EVERY_CONSUMER

        await eventually(delivered, timeout=30)
    finally:
        await receiver.stop()
    spans = exporter.get_finished_spans()
    [ingest_request] = [s for s in spans if s.name == "POST /v1/events" and s.kind.name == "SERVER"]
    trace_id = ingest_request.context.trace_id
    in_trace = [s for s in spans if s.context.trace_id == trace_id]
    assert EVERY_CONSUMER <= _consumer_groups(in_trace)
    statements = " ".join(
        str(_attribute(s, "db.statement") or _attribute(s, "db.query.text") or "") for s in in_trace
    )
    assert "INSERT INTO usage_counters" in statements
    assert "INSERT INTO outbox" in statements
    assert "INSERT INTO inbox_items" in statements
    [webhook_id] = receiver.acknowledged
    [send] = [s for s in in_trace if s.name == "send webhook"]
    assert _attribute(send, "tangible.delivery.id") == webhook_id
    assert _attribute(send, "tangible.delivery.outcome") == "succeeded"
    assert _attribute(send, "http.response.status_code") == 204
    # the receiver itself can follow it: the request carried the trace (instrumented httpx)
    version, received_trace, _parent, _flags = receiver.traceparents[webhook_id].split("-")
    assert (version, int(received_trace, 16)) == ("00", trace_id)


def _consumer_groups(spans: Sequence[ReadableSpan]) -> set[object]:
    return {_attribute(s, "messaging.consumer.group.name") for s in spans if s.name.startswith("process ")}
