"""Per-tenant rate limit in events (429 with IETF headers) and the /metrics it all feeds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tangible_devstack.pytest_plugin import IssueToken
from tangible_runtime.domain import ManualClock

pytestmark = pytest.mark.integration

Event = Callable[..., dict[str, Any]]
POLICY = '"ingest-events";q=10;w=1'


async def send(
    ingest: httpx.AsyncClient, headers: dict[str, str], events: list[dict[str, Any]]
) -> httpx.Response:
    return await ingest.post("/v1/events", json=events, headers=headers)


async def test_events_count_against_the_tenant_limit_and_429_says_when_to_retry(
    start_ingest: Any,
    clock: ManualClock,
    ingest_headers: dict[str, str],
    issue_token: IssueToken,
    event: Event,
    read_usage: Any,
) -> None:
    async with start_ingest(clock=clock, rate_limit_events_per_second=10) as ingest:
        accepted = await send(ingest, ingest_headers, [event() for _ in range(6)])
        assert accepted.status_code == 202
        assert accepted.headers["ratelimit-policy"] == POLICY
        assert accepted.headers["ratelimit"] == '"ingest-events";r=4;t=1'

        refused = await send(ingest, ingest_headers, [event() for _ in range(5)])  # costs 5, 4 left
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("rate-limited")
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["ratelimit-policy"] == POLICY
        assert refused.headers["ratelimit"] == '"ingest-events";r=4;t=1'

        other_tenant = {"Authorization": f"Bearer {issue_token('another-tenant', 'ingest')}"}
        assert (await send(ingest, other_tenant, [event() for _ in range(10)])).status_code == 202

        clock.advance(timedelta(seconds=1))
        again = await send(ingest, ingest_headers, [event() for _ in range(5)])
        assert again.status_code == 202
        assert again.headers["ratelimit"] == '"ingest-events";r=5;t=1'
        assert len(await read_usage()) == 6 + 10 + 5  # the refused request published nothing


async def test_a_batch_larger_than_the_limit_passes_when_idle_then_waits_its_cost_out(
    start_ingest: Any, clock: ManualClock, ingest_headers: dict[str, str], event: Event
) -> None:
    async with start_ingest(clock=clock, rate_limit_events_per_second=10) as ingest:
        assert (await send(ingest, ingest_headers, [event() for _ in range(25)])).status_code == 202
        refused = await send(ingest, ingest_headers, [event()])
        assert (refused.status_code, refused.headers["retry-after"]) == (429, "2")
        clock.advance(timedelta(seconds=2))
        assert (await send(ingest, ingest_headers, [event()])).status_code == 202


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_outcomes_per_tenant_and_time_each_stage(
    start_ingest: Any, clock: ManualClock, ingest_headers: dict[str, str], tenant_id: str, event: Event
) -> None:
    async with start_ingest(clock=clock, rate_limit_events_per_second=20) as ingest:
        first, second = event(), event()
        await send(ingest, ingest_headers, [first, second, event(id="")])
        await send(ingest, ingest_headers, [first, {**second, "data": {"quantity": 5}}, event()])
        await send(ingest, ingest_headers, [{"not": "valid"}])
        assert (await send(ingest, ingest_headers, [event() for _ in range(30)])).status_code == 429

        found = samples((await ingest.get("/metrics")).text)

    def events(outcome: str) -> float:
        return found.get(("ingest_events_total", (("outcome", outcome), ("tenant", tenant_id))), 0.0)

    assert (events("accepted"), events("duplicate"), events("conflict"), events("rejected")) == (3, 1, 1, 2)
    assert found[("ingest_rate_limited_requests_total", (("tenant", tenant_id),))] == 1
    assert found[("ingest_dedup_store_duration_seconds_count", (("operation", "claim"),))] == 2
    assert found[("ingest_dedup_store_duration_seconds_count", (("operation", "lookup"),))] == 1
    assert found[("kafka_publish_duration_seconds_count", ())] == 2
    route = (("method", "POST"), ("route", "/v1/events"))
    assert found[("http_request_duration_seconds_count", route)] == 4
    assert found[("http_requests_total", (*route, ("status", "429")))] == 1
