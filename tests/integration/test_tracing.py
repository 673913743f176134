"""One usage event followed by its trace: ingest request → Kafka → entitlements consumer →
outbox → Kafka → notifications consumer → inbox item, in a single trace."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.scenario import Clients, inbox_items, provision, send_report_generated
from tangible_devstack.testing import eventually

pytestmark = pytest.mark.integration

ACCOUNT = "acct-traced"


def _attribute(span: ReadableSpan, name: str) -> Any:
    return (span.attributes or {}).get(name)


async def test_one_usage_event_can_be_followed_by_its_trace_across_services(
    start_system: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    exporter = InMemorySpanExporter()
    system: Clients = await start_system(span_processors=[SimpleSpanProcessor(exporter)])
    await provision(system, issue_token(tenant_id, "admin"), ACCOUNT)
    exporter.clear()
    assert (await send_report_generated(system, issue_token(tenant_id, "ingest"), ACCOUNT)).status_code == 202
    reader = issue_token(tenant_id, "read")

    async def delivered() -> None:
        assert len(await inbox_items(system, reader, ACCOUNT)) == 1

    await eventually(delivered, timeout=10)
    spans = exporter.get_finished_spans()
    [ingest_request] = [s for s in spans if s.name == "POST /v1/events" and s.kind.name == "SERVER"]
    trace_id = ingest_request.context.trace_id
    in_trace = [s for s in spans if s.context.trace_id == trace_id]
    consumers = {
        _attribute(s, "messaging.consumer.group.name") for s in in_trace if s.name.startswith("process ")
    }
    assert {"entitlements-usage", "rewards-usage", "notifications-events"} <= consumers
    statements = " ".join(
        str(_attribute(s, "db.statement") or _attribute(s, "db.query.text") or "") for s in in_trace
    )
    assert "INSERT INTO usage_counters" in statements
    assert "INSERT INTO outbox" in statements
    assert "INSERT INTO inbox_items" in statements
