"""How ingest classifies a batch, and how a request body becomes a command."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tangible_ingest.domain.model import Outcome, UsageEvent, classify, first_occurrences
from tangible_ingest.entrypoints.translate import to_command

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def valid(**overrides: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": "e1", "source": "s", "type": "t", "subject": "a1", **overrides}


def events(*items: dict[str, Any]) -> list[UsageEvent]:
    return to_command("t1", list(items), NOW).events


def test_first_occurrence_wins_within_a_batch() -> None:
    batch = events(valid(), valid(), valid(data={"quantity": 2}), valid(id="e2"))
    unique = first_occurrences(batch)
    assert [e.index for e in unique] == [0, 3]
    result = classify(batch, set(), {})
    assert [e.index for e in result.fresh] == [0, 3]
    assert [(r.index, r.outcome) for r in result.results] == [(1, Outcome.DUPLICATE), (2, Outcome.CONFLICT)]


def test_keys_claimed_before_are_duplicates_or_conflicts_by_payload_hash() -> None:
    [first] = events(valid())
    [changed] = events(valid(data={"quantity": 2}))
    known = {first.dedup_key: first.payload_hash}
    taken = {first.dedup_key}
    assert classify([first], taken, known).results[0].outcome is Outcome.DUPLICATE
    assert classify([changed], taken, known).results[0].outcome is Outcome.CONFLICT
    assert classify([first], set(), {}).fresh == [first]


def test_every_occurrence_of_a_stored_key_is_judged_against_the_stored_payload() -> None:
    stored, changed, again = events(valid(), valid(data={"quantity": 9}), valid())
    result = classify([changed, again], {stored.dedup_key}, {stored.dedup_key: stored.payload_hash})
    assert [r.outcome for r in result.results] == [Outcome.CONFLICT, Outcome.DUPLICATE]
    assert result.fresh == []


def test_invalid_events_are_rejected_by_index_with_reasons() -> None:
    command = to_command(
        "t1",
        [
            valid(),
            {"id": "x"},
            valid(id="e2", time="yesterday"),
            42,
            valid(id="e3", data={"quantity": True}),
            valid(id="e4", **{"Bad-Name": 1}),
        ],
        NOW,
    )
    assert [e.index for e in command.events] == [0]
    reasons = {r.index: {x.field for x in r.reasons} for r in command.rejections}
    assert reasons[1] >= {"specversion", "source", "type", "subject"}
    assert reasons[2] == {"time"}
    assert reasons[3] == {None}
    assert reasons[4] == {"data.quantity"}
    assert 5 in reasons


def test_defaults_quantity_one_and_time_of_receipt_and_keeps_properties() -> None:
    [event] = events(valid(data={"user_id": "u1", "format": "pdf"}))
    assert (event.quantity, event.time, event.user_id, event.properties) == (
        1.0,
        NOW,
        "u1",
        {"format": "pdf"},
    )


def test_wire_id_is_stable_per_tenant_source_and_id() -> None:
    [a] = events(valid())
    [b] = events(valid(data={"quantity": 5}))
    assert a.wire_id("t1") == b.wire_id("t1") != a.wire_id("t2")
