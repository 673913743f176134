"""Adoption breadth: share of assigned seats active in a rolling window, as seats change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tangible_rewards.domain.adoption import Adoption, SeatChange, adoption_at, apply_seat_changes
from tangible_rewards.domain.model import AdoptionParams

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
WINDOW = timedelta(days=30)
HALF = AdoptionParams(percent=50, window_days=30, min_seats=2)


def holders(pairs: set[tuple[str, str]]) -> set[str]:
    return {user for _, user in pairs}


def test_share_of_assigned_seats_active_in_the_window() -> None:
    seen = {"ann": NOW - timedelta(days=1), "bob": NOW - timedelta(days=40)}  # bob's activity is too old
    adoption = adoption_at({"ann", "bob", "cy", "dee"}, seen, NOW, WINDOW)
    assert adoption == Adoption(assigned=4, active=1)
    assert adoption.percent == 25 and not adoption.reached(HALF) and adoption.needed(HALF) == 2


def test_a_seat_taken_back_mid_window_leaves_numerator_and_denominator() -> None:
    seats = apply_seat_changes(set(), [SeatChange("l1", u, True) for u in ("ann", "bob", "cy", "dee")])
    seen = {"ann": NOW - timedelta(days=2), "cy": NOW - timedelta(days=20)}
    assert adoption_at(holders(seats), seen, NOW, WINDOW).percent == 50
    # cy leaves mid-window: the active count falls with the seat count
    seats = apply_seat_changes(seats, [SeatChange("l1", "cy", False)])
    assert adoption_at(holders(seats), seen, NOW, WINDOW) == Adoption(3, 1)
    # dee (never active) leaves too: one of two remaining seats is active
    seats = apply_seat_changes(seats, [SeatChange("l1", "dee", False)])
    adoption = adoption_at(holders(seats), seen, NOW, WINDOW)
    assert adoption == Adoption(2, 1) and adoption.reached(HALF)


def test_a_seat_given_mid_window_counts_at_once_with_its_holders_activity() -> None:
    seats = apply_seat_changes(set(), [SeatChange("l1", "ann", True), SeatChange("l1", "bob", True)])
    seen = {"ann": NOW - timedelta(days=3), "eve": NOW - timedelta(days=10)}
    assert adoption_at(holders(seats), seen, NOW, WINDOW) == Adoption(2, 1)
    seats = apply_seat_changes(seats, [SeatChange("l1", "eve", True)])
    assert adoption_at(holders(seats), seen, NOW, WINDOW) == Adoption(3, 2)


def test_reassigning_and_unassigning_in_one_batch_applies_in_order() -> None:
    changes = [SeatChange("l1", "ann", True), SeatChange("l1", "ann", False), SeatChange("l1", "ann", True)]
    assert apply_seat_changes(set(), changes) == {("l1", "ann")}


def test_minimum_seats_guard_a_tiny_rollout() -> None:
    one_of_one = Adoption(assigned=1, active=1)
    assert one_of_one.percent == 100 and not one_of_one.reached(HALF)
