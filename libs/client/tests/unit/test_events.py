"""Encoding of one event: CloudEvents fields, stable id and time, early errors."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tangible_client.events import encode_batch, encode_event


def test_event_is_a_cloudevent_with_subject_account_and_data() -> None:
    event = encode_event(
        type="report.generated",
        account_id="acct-1",
        source="app://reports",
        quantity=2,
        user_id="u-1",
        properties={"format": "pdf"},
        time=datetime(2026, 11, 26, 11, 0, tzinfo=timezone(timedelta(hours=1))),
    )
    body = json.loads(event.body)
    assert body == {
        "specversion": "1.0",
        "id": event.id,
        "source": "app://reports",
        "type": "report.generated",
        "subject": "acct-1",
        "time": "2026-11-26T10:00:00Z",
        "data": {"format": "pdf", "quantity": 2, "user_id": "u-1"},
    }
    assert uuid.UUID(event.id).version == 4


def test_defaults_quantity_one_time_now_and_keeps_a_given_id() -> None:
    before = datetime.now(UTC)
    event = encode_event(type="t", account_id="a", source="s", id="order-42")
    body = json.loads(event.body)
    assert event.id == body["id"] == "order-42"
    assert body["data"] == {"quantity": 1}
    assert datetime.fromisoformat(body["time"]) >= before.replace(microsecond=0)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"quantity": math.nan}, ValueError),
        ({"quantity": True}, ValueError),
        ({"properties": {"quantity": 3}}, ValueError),
        ({"time": datetime(2026, 1, 1)}, ValueError),
        ({"properties": {"when": datetime(2026, 1, 1, tzinfo=UTC)}}, TypeError),
    ],
)
def test_input_no_server_could_accept_fails_at_record_time(
    overrides: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        encode_event(type="t", account_id="a", source="s", **overrides)  # type: ignore[arg-type]


def test_batch_body_is_a_json_array_of_the_events() -> None:
    events = [encode_event(type="t", account_id="a", source="s") for _ in range(3)]
    assert [e["id"] for e in json.loads(encode_batch(events))] == [e.id for e in events]
