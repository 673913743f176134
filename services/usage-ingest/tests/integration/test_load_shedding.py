"""Load shedding: past its bound of events in flight, a request gets 503 `overloaded` with a
Retry-After at once; probes and metrics are never shed; shed events are not published."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tangible_devstack.testing import running, wait_ready
from tangible_ingest.bootstrap import bootstrap
from tangible_ingest.config import Settings
from tangible_ingest.entrypoints.dependencies import Container

pytestmark = pytest.mark.integration

Event = Callable[..., dict[str, Any]]


def metric(text: str, name: str, **labels: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


async def test_concurrent_batches_past_the_bound_are_shed_and_nothing_shed_is_published(
    ingest_settings: Settings, ingest_headers: dict[str, str], event: Event, read_usage: Any
) -> None:
    settings = ingest_settings.model_copy(update={"max_events_in_flight": 5})
    async with running(bootstrap(settings, configure_logs=False)) as ingest:
        await wait_ready(ingest)
        batches = [[event() for _ in range(5)] for _ in range(12)]
        answers = await asyncio.gather(
            *(ingest.post("/v1/events", json=batch, headers=ingest_headers) for batch in batches)
        )
        shed = [a for a in answers if a.status_code == 503]
        accepted = [b for b, a in zip(batches, answers, strict=True) if a.status_code == 202]
        assert shed and accepted  # the first batch fills the bound while it awaits Kafka
        assert len(shed) + len(accepted) == len(batches)
        for answer in shed:
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["type"].endswith("/overloaded")
            assert int(answer.headers["retry-after"]) in {1, 2}
        text = (await ingest.get("/metrics")).text
        assert metric(text, "ingest_shed_requests_total") == len(shed)
        assert metric(text, "ingest_events_in_flight") == 0  # every admitted request released
        records = await read_usage()
        assert len(records) == 5 * len(accepted)


async def test_a_full_process_sheds_on_arrival_but_answers_probes_and_metrics(
    ingest_settings: Settings, ingest_headers: dict[str, str], event: Event
) -> None:
    app = bootstrap(ingest_settings.model_copy(update={"max_events_in_flight": 10}), configure_logs=False)
    async with running(app) as ingest:
        await wait_ready(ingest)
        container: Container = app.state.container
        assert container.admission.admit(10)  # as if requests held every slot
        for path in ("/v1/events", "/v1/imports/events"):
            shed = await ingest.post(path, json=[event()], headers=ingest_headers)
            assert (shed.status_code, shed.json()["type"].rsplit("/", 1)[-1]) == (503, "overloaded")
        for probe in ("/healthz", "/readyz", "/metrics"):
            assert (await ingest.get(probe)).status_code == 200
        text = (await ingest.get("/metrics")).text
        assert metric(text, "ingest_shed_requests_total", stage="arrival") == 2
        assert metric(text, "ingest_events_in_flight") == 10
        container.admission.release(10)
        assert (await ingest.post("/v1/events", json=[event()], headers=ingest_headers)).status_code == 202
