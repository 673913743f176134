"""Which dead letters a selection picks: every criterion given must hold; a time range
includes `since` and excludes `until`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tangible_runtime.dead_letters import DeadLetter, Selection

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def letter(id_: str, at: datetime, reason: str = "unknown_account") -> DeadLetter:
    return DeadLetter(
        id=id_,
        consumer="entitlements-usage",
        dead_lettered_at=at,
        reason=reason,
        detail="",
        source_topic="tangible.usage.v1",
        event_type="tangible.usage.v1.recorded",
        event_id=f"e-{id_}",
        tenant_id="t1",
        key=b"t1/a1",
        value=b"{}",
    )


def picked(selection: Selection, letters: list[DeadLetter]) -> list[str]:
    return [x.id for x in letters if selection.matches(x)]


LETTERS = [
    letter("0-1", T0 - timedelta(microseconds=1)),  # just before the window
    letter("0-2", T0),  # at its start: inside
    letter("0-3", T0 + timedelta(minutes=30), reason="parking_full"),
    letter("0-4", T0 + timedelta(hours=1) - timedelta(microseconds=1)),  # last instant inside
    letter("0-5", T0 + timedelta(hours=1)),  # at its end: outside
    letter("0-6", T0 + timedelta(days=1)),
]


def test_a_time_range_includes_since_and_excludes_until() -> None:
    window = Selection(since=T0, until=T0 + timedelta(hours=1))
    assert picked(window, LETTERS) == ["0-2", "0-3", "0-4"]


def test_either_end_of_the_range_alone_is_open_on_the_other_side() -> None:
    assert picked(Selection(since=T0 + timedelta(hours=1)), LETTERS) == ["0-5", "0-6"]
    assert picked(Selection(until=T0), LETTERS) == ["0-1"]


def test_an_empty_range_selects_nothing() -> None:
    assert picked(Selection(since=T0, until=T0), LETTERS) == []


def test_the_range_compares_instants_whatever_the_offset() -> None:
    paris = datetime.fromisoformat("2026-12-01T13:00:00+01:00")  # T0, written in another zone
    assert paris == T0
    assert picked(Selection(since=paris, until=paris + timedelta(hours=1)), LETTERS) == ["0-2", "0-3", "0-4"]


def test_every_criterion_given_must_hold() -> None:
    window = Selection(reason="parking_full", since=T0, until=T0 + timedelta(hours=1))
    assert picked(window, LETTERS) == ["0-3"]
    by_id = Selection(ids=frozenset({"0-1", "0-3", "0-5"}), until=T0 + timedelta(hours=1))
    assert picked(by_id, LETTERS) == ["0-1", "0-3"]


def test_no_criterion_selects_everything() -> None:
    assert picked(Selection(), LETTERS) == [x.id for x in LETTERS]
