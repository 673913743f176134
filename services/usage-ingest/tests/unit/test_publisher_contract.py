"""Hand-written encodings must match the contracts: `UsageRecorded`, aiokafka's partitioner,
UUIDv5 wire ids, the `IngestResponse` schema."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
from aiokafka.partitioner import DefaultPartitioner

from tangible_ingest.adapters.publisher import KeyPartitioner, encode_usage, usage_headers
from tangible_ingest.domain.model import CONFLICT_REASONS, EventResult, IngestReport, Outcome, Reason
from tangible_ingest.entrypoints.api import _body
from tangible_ingest.entrypoints.schemas import IngestResponse
from tangible_ingest.entrypoints.translate import to_command
from tangible_schemas import from_record
from tangible_schemas.usage import UsageRecorded

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def test_encoded_usage_decodes_as_the_published_contract() -> None:
    item = {
        "specversion": "1.0",
        "id": "e1",
        "source": "s",
        "type": "report.generated",
        "subject": "a1",
        "time": "2026-11-26T10:00:00+01:00",
        "data": {"quantity": 3, "user_id": "u", "nested": {"x": [1, 2]}},
    }
    [event] = to_command("t1", [item], datetime.now(UTC)).events
    headers = usage_headers("t1", event, "2026-11-26T09:00:00+00:00", [])
    decoded = from_record(headers, encode_usage("t1", event))
    assert isinstance(decoded.data, UsageRecorded)
    assert decoded.data.occurred_at == datetime(2026, 11, 26, 9, tzinfo=UTC)
    assert decoded.data.properties == {"nested": {"x": [1, 2]}}
    assert decoded.id == event.wire_id("t1") and decoded.subject == "a1"


def test_records_land_on_the_partition_aiokafka_would_choose() -> None:
    partitions = list(range(12))
    ours = KeyPartitioner()
    for n in range(2_000):
        key = f"tenant-{n % 7}/acct-{n}".encode()
        assert ours.partition(key, partitions) == DefaultPartitioner()(key, partitions, partitions)
    assert ours.partition(b"t/a", list(range(3))) == DefaultPartitioner()(b"t/a", [0, 1, 2], [0, 1, 2])


def test_the_wire_id_is_the_uuid5_of_tenant_source_and_id() -> None:
    [event] = to_command(
        "t1", [{"specversion": "1.0", "id": "é1", "source": "s", "type": "t", "subject": "a"}], NOW
    ).events
    expected = uuid.uuid5(uuid.UUID("6f1d3c1e-7b3a-4f43-9a55-7a2b9f3c0d11"), "t1\x1fs\x1fé1")
    assert event.wire_id("t1") == str(expected)


def test_the_response_body_is_a_valid_ingest_response() -> None:
    report = IngestReport(
        [
            EventResult(0, "e1", Outcome.ACCEPTED),
            EventResult(
                1, None, Outcome.REJECTED, (Reason("string_type", "id", "Input should be a string"),)
            ),
            EventResult(2, "e1", Outcome.CONFLICT, CONFLICT_REASONS),
        ]
    )
    document = orjson.loads(orjson.dumps(_body(report)))
    parsed = IngestResponse.model_validate(document)
    assert (parsed.accepted, parsed.conflicts, parsed.rejected, parsed.duplicates) == (1, 1, 1, 0)
    assert parsed.results[1].errors[0].field == "id"
    assert document["results"][0] == {"index": 0, "id": "e1", "status": "accepted", "errors": []}
