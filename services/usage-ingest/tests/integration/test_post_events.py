"""POST /v1/events on real Kafka and PostgreSQL: formats, per-event results, dedup."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from tangible_devstack.databases import create_database, drop_database, with_database
from tangible_devstack.pytest_plugin import IssueToken
from tangible_runtime.migrations import upgrade
from tangible_schemas import from_record, parse_record_key
from tangible_schemas.usage import UsageRecorded

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

Event = Callable[..., dict[str, Any]]


def statuses(response: httpx.Response) -> list[str]:
    return [r["status"] for r in response.json()["results"]]


def event_ids(records: list[Any]) -> list[str]:
    """The producers' event ids of the usage records, sorted."""
    ids = []
    for record in records:
        data = from_record(list(record.headers), record.value).data
        assert isinstance(data, UsageRecorded)
        ids.append(data.event_id)
    return sorted(ids)


async def test_single_event_is_on_kafka_with_cloudevents_headers_when_202(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event, read_usage: Any, tenant_id: str
) -> None:
    sent = event()
    trace_id = uuid.uuid4().hex
    headers = {
        **ingest_headers,
        "Content-Type": "application/cloudevents+json",
        "traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01",
    }
    response = await ingest.post("/v1/events", json=sent, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 1

    [record] = await read_usage()
    assert record.key == f"{tenant_id}/acct-1".encode()
    header_map = dict(record.headers)
    assert header_map["ce_type"] == b"tangible.usage.v1.recorded"
    assert header_map["ce_tenantid"] == tenant_id.encode()
    assert header_map["ce_subject"] == b"acct-1"
    assert header_map["traceparent"].decode().split("-")[1] == trace_id  # followable from the request
    event_in_kafka = from_record(list(record.headers), record.value)
    assert isinstance(event_in_kafka.data, UsageRecorded)
    assert event_in_kafka.data.quantity == 2
    assert event_in_kafka.data.event_id == sent["id"]
    assert event_in_kafka.data.properties == {"format": "pdf"}


async def test_an_account_id_with_a_slash_is_keyed_so_that_it_splits_back(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event, read_usage: Any, tenant_id: str
) -> None:
    """`tenant/a/b` could be tenant `tenant/a` and account `b`: the parts are encoded."""
    headers = {**ingest_headers, "Content-Type": "application/cloudevents+json"}
    response = await ingest.post("/v1/events", json=event(subject="a/b%"), headers=headers)
    assert response.status_code == 202, response.text
    [record] = await read_usage()
    assert record.key == f"{tenant_id}/a%2Fb%25".encode()
    assert parse_record_key(record.key) == (tenant_id, "a/b%")


@pytest.mark.parametrize("content_type", ["application/cloudevents-batch+json", "application/json"])
async def test_batch_and_plain_array_are_accepted_event_by_event(
    ingest: httpx.AsyncClient,
    ingest_headers: dict[str, str],
    event: Event,
    read_usage: Any,
    content_type: str,
) -> None:
    batch = [event(subject=f"acct-{n}") for n in range(20)]
    headers = {**ingest_headers, "Content-Type": content_type}
    response = await ingest.post("/v1/events", json=batch, headers=headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (20, 0)
    assert [r["index"] for r in body["results"]] == list(range(20))
    assert {r["id"] for r in body["results"]} == {e["id"] for e in batch}
    assert event_ids(await read_usage()) == sorted(e["id"] for e in batch)


async def test_plain_json_object_is_one_event(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event
) -> None:
    headers = {**ingest_headers, "Content-Type": "application/json; charset=utf-8"}
    response = await ingest.post("/v1/events", json=event(), headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 1


async def test_partial_acceptance_reports_each_rejected_event_by_index_with_reasons(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event, read_usage: Any
) -> None:
    batch = [
        event(),
        event(specversion="0.3"),
        event(time="yesterday"),
        "not an object",
        event(data={"quantity": -1}),
        event(),
    ]
    response = await ingest.post("/v1/events", json=batch, headers=ingest_headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (2, 4)
    assert statuses(response) == ["accepted", "rejected", "rejected", "rejected", "rejected", "accepted"]
    results = body["results"]
    assert results[1]["errors"][0]["field"] == "specversion"
    assert results[2]["errors"][0]["field"] == "time"
    assert results[3]["errors"][0]["code"] == "not-an-object"
    assert results[4]["errors"][0]["field"] == "data.quantity"
    assert len(await read_usage()) == 2


async def test_nothing_valid_is_a_422_problem_listing_every_event(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event, read_usage: Any
) -> None:
    response = await ingest.post("/v1/events", json=[event(id=""), {"x": 1}], headers=ingest_headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("no-valid-events")
    assert [e["index"] for e in problem["errors"]] == [0, 1]
    assert all(e["status"] == "rejected" and e["errors"] for e in problem["errors"])
    assert await read_usage() == []


async def test_an_empty_batch_is_a_422_problem(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str]
) -> None:
    response = await ingest.post("/v1/events", json=[], headers=ingest_headers)
    assert response.status_code == 422
    assert response.json()["type"].endswith("empty-batch")


async def test_replays_across_requests_are_duplicates_and_changed_payloads_conflicts(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event, read_usage: Any
) -> None:
    first, second = event(), event()
    assert (await ingest.post("/v1/events", json=[first, second], headers=ingest_headers)).status_code == 202
    changed = {**second, "data": {"quantity": 99}}
    third = event()
    response = await ingest.post("/v1/events", json=[first, changed, third], headers=ingest_headers)
    assert response.status_code == 202
    assert statuses(response) == ["duplicate", "conflict", "accepted"]
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["conflicts"]) == (1, 1, 1)
    assert body["results"][1]["errors"][0]["code"] == "conflict"
    assert event_ids(await read_usage()) == sorted([first["id"], second["id"], third["id"]])


async def test_repeats_within_one_batch_count_once(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event, read_usage: Any
) -> None:
    one = event()
    response = await ingest.post(
        "/v1/events", json=[one, one, {**one, "subject": "acct-2"}], headers=ingest_headers
    )
    assert statuses(response) == ["accepted", "duplicate", "conflict"]
    assert len(await read_usage()) == 1


async def test_concurrent_requests_with_the_same_events_publish_them_once(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event, read_usage: Any
) -> None:
    batch = [event(subject=f"acct-{n}") for n in range(50)]
    responses = await asyncio.gather(
        *(ingest.post("/v1/events", json=batch, headers=ingest_headers) for _ in range(4))
    )
    assert all(r.status_code == 202 for r in responses)
    accepted = Counter(
        r["id"] for resp in responses for r in resp.json()["results"] if r["status"] == "accepted"
    )
    assert accepted == Counter(e["id"] for e in batch)  # each event accepted by exactly one request
    assert len(await read_usage()) == len(batch)


async def test_the_same_source_and_id_in_two_tenants_are_two_events(
    ingest: httpx.AsyncClient, issue_token: IssueToken, event: Event, read_usage: Any
) -> None:
    shared = event()
    for tenant in ("tenant-a", "tenant-b"):
        headers = {"Authorization": f"Bearer {issue_token(tenant, 'ingest')}"}
        response = await ingest.post("/v1/events", json=[shared], headers=headers)
        assert statuses(response) == ["accepted"]
    tenants = sorted(dict(r.headers)["ce_tenantid"] for r in await read_usage())
    assert tenants == [b"tenant-a", b"tenant-b"]


async def test_events_dated_beyond_the_tolerated_clock_skew_are_rejected(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event
) -> None:
    response = await ingest.post(
        "/v1/events", json=[event(), event(time="2999-01-01T00:00:00Z")], headers=ingest_headers
    )
    assert statuses(response) == ["accepted", "rejected"]
    assert response.json()["results"][1]["errors"][0]["code"] == "time-in-future"


async def test_keys_accepted_before_the_compact_dedup_table_still_deduplicate(
    infrastructure: Any, start_ingest: Any, ingest_headers: dict[str, str], tenant_id: str, event: Event
) -> None:
    """Migration 0002 carries keys over with the digest the service computes."""
    admin = infrastructure.postgres_admin_url
    name = f"usage_ingest_v1_{uuid.uuid4().hex[:8]}"
    await create_database(admin, name)
    url = with_database(admin, name)
    await asyncio.to_thread(upgrade, MIGRATIONS, url, "0001")
    old = event(id="é-1")
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(
            "INSERT INTO dedup_keys VALUES ($1, $2, $3, $4, $5)",
            tenant_id,
            old["source"],
            old["id"],
            hashlib.sha256(orjson.dumps(old, option=orjson.OPT_SORT_KEYS)).digest(),
            datetime.now(UTC),  # the service's clock, not the database's: they differ under faketime
        )
    finally:
        await connection.close()
    await asyncio.to_thread(upgrade, MIGRATIONS, url)
    try:
        async with start_ingest(database_url=url) as ingest:
            changed = {**old, "data": {"quantity": 7}}
            response = await ingest.post("/v1/events", json=[old, changed, event()], headers=ingest_headers)
            assert statuses(response) == ["duplicate", "conflict", "accepted"]
    finally:
        await drop_database(admin, name)
