"""The hand-encoded Kafka value must be a valid `UsageRecorded` (contract test)."""

from __future__ import annotations

from datetime import UTC, datetime

from tangible_ingest.adapters.publisher import encode_usage, usage_headers
from tangible_ingest.entrypoints.translate import to_command
from tangible_schemas import from_record
from tangible_schemas.usage import UsageRecorded


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
