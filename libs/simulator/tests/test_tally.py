"""The tally counts what the server counted: once per accepted id, whichever attempt won."""

from __future__ import annotations

from typing import Any

from tangible_client.reports import DeliveryReport, DeliveryStatus
from tangible_simulator.tally import Tally


def _event(event_id: str, quantity: int = 1) -> dict[str, Any]:
    return {"id": event_id, "type": "report.generated", "subject": "a", "data": {"quantity": quantity}}


def test_an_original_whose_retry_came_back_duplicate_was_counted_by_its_first_attempt() -> None:
    tally = Tally()
    tally.record("original", _event("e1"), DeliveryReport("e1", DeliveryStatus.DUPLICATE, attempts=2))
    assert tally.accepted_ids == {"e1"} and tally.usage["a"]["report.generated"] == 1


def test_duplicates_conflicts_and_first_attempt_duplicates_are_not_counted() -> None:
    tally = Tally()
    tally.record("original", _event("e1"), DeliveryReport("e1", DeliveryStatus.ACCEPTED))
    tally.record("duplicate", _event("e1"), DeliveryReport("e1", DeliveryStatus.DUPLICATE, attempts=3))
    tally.record("conflict", _event("e1", 2), DeliveryReport("e1", DeliveryStatus.CONFLICT))
    tally.record("original", _event("e2"), DeliveryReport("e2", DeliveryStatus.DUPLICATE, attempts=1))
    tally.record("original", _event("e3"), DeliveryReport("e3", DeliveryStatus.FAILED, attempts=10))
    assert tally.accepted_ids == {"e1"} and tally.usage["a"]["report.generated"] == 1
