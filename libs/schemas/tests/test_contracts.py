"""The wire contracts: naming, strictness, the Kafka binding, the checked-in AsyncAPI."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from tangible_schemas import (
    EVENT_TYPES,
    CloudEvent,
    EventData,
    UndecodableRecord,
    from_record,
    new_event,
    to_record,
    topic_for,
)
from tangible_schemas.asyncapi import ASYNCAPI_PATH, JSONSCHEMA_DIR, json_schemas, render
from tangible_schemas.entitlements import ThresholdCrossed
from tangible_schemas.usage import UsageRecorded

TYPE_NAME = re.compile(r"^tangible\.[a-z]+\.v1\.[a-z]+(_[a-z]+)*$")


def threshold() -> ThresholdCrossed:
    return ThresholdCrossed(
        tenant_id="t1",
        account_id="a1",
        feature_key="reports",
        threshold_percent=80,
        usage=8,
        limit=10,
        period_start=datetime(2026, 11, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_type_is_versioned_past_tense_and_routed_by_its_prefix(event_type: str) -> None:
    assert TYPE_NAME.match(event_type), event_type
    assert event_type.endswith("ed"), "event names are past tense"
    assert topic_for(event_type).name == event_type.rsplit(".", 1)[0]


def test_payloads_are_frozen_and_refuse_unknown_fields() -> None:
    event = threshold()
    with pytest.raises(ValidationError):
        event.usage = 9  # type: ignore[misc]
    with pytest.raises(ValidationError):
        ThresholdCrossed.model_validate({**event.model_dump(), "surprise": 1})


def test_binary_mode_round_trip_keeps_attributes_key_and_data() -> None:
    event: CloudEvent[EventData] = new_event(threshold(), source="tangible/entitlements")
    record = to_record(event, [("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")])
    assert record.topic == "tangible.entitlements.v1"
    assert record.key == b"t1/a1"
    headers = dict(record.headers)
    assert headers["ce_type"] == b"tangible.entitlements.v1.threshold_crossed"
    assert headers["ce_subject"] == b"a1"
    decoded = from_record(record.headers, record.value)
    assert decoded.id == event.id and decoded.data == event.data


def test_undecodable_records_say_why() -> None:
    record = to_record(new_event(threshold(), source="s"))
    with pytest.raises(UndecodableRecord) as missing:
        from_record([h for h in record.headers if h[0] != "ce_id"], record.value)
    assert missing.value.reason == "missing_attributes"
    with pytest.raises(UndecodableRecord) as invalid:
        from_record(record.headers, b'{"tenant_id": "t1"}')
    assert invalid.value.reason == "invalid_payload"
    forged = [(k, b"other" if k == "ce_tenantid" else v) for k, v in record.headers]
    with pytest.raises(UndecodableRecord) as mismatch:
        from_record(forged, record.value)
    assert mismatch.value.reason in {"tenant_mismatch", "invalid_payload"}


def test_usage_recorded_accepts_the_minimal_payload() -> None:
    usage = UsageRecorded.model_validate_json(
        json.dumps(
            {
                "tenant_id": "t",
                "account_id": "a",
                "event_id": "e",
                "event_source": "s",
                "usage_type": "x",
                "occurred_at": "2026-01-01T00:00:00Z",
            }
        )
    )
    assert usage.quantity == 1.0 and usage.properties == {}


def test_checked_in_asyncapi_document_matches_the_models() -> None:
    """Run `python -m tangible_schemas.asyncapi write` after changing an event."""
    assert ASYNCAPI_PATH.read_text() == render()
    document = json.loads(render())
    assert document["asyncapi"].startswith("3.")
    messages = {m["name"] for m in document["components"]["messages"].values()}
    assert messages == set(EVENT_TYPES) | {"dead_letter"}
    on_disk = {p.name: p.read_text() for p in JSONSCHEMA_DIR.glob("*.json")}
    assert on_disk == json_schemas()


def test_every_consumer_group_receives_and_has_a_dead_letter_channel() -> None:
    from tangible_schemas.consumers import CONSUMER_GROUPS

    document = json.loads(render())
    operations = document["operations"]
    channels = {channel["address"] for channel in document["channels"].values()}
    for group in CONSUMER_GROUPS:
        received = [
            o for o in operations.values() if o["summary"].startswith(f"Consumer group {group.name} ")
        ]
        assert len(received) == len(group.topics) and all(o["action"] == "receive" for o in received)
        assert all(o["messages"] for o in received), group.name
        assert f"tangible.dlq.{group.name}" in channels
    assert document["servers"]
