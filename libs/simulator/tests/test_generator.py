"""The simulator's stream is reproducible and shaped like real usage."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from tangible_simulator.generator import Options, UsageStream, daily_rhythm, weekly_rhythm
from tangible_simulator.population import ZONES, Trend, build_population

START = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday


def run(seed: int, options: Options = Options(), days: int = 2) -> list[tuple[str, str]]:
    stream = UsageStream(build_population(20, seed=seed), START, seed, options)
    sent: list[tuple[str, str]] = []
    for hour in range(24 * days):
        begin = START + timedelta(hours=hour)
        sent.extend((s.kind, s.event["id"]) for s in stream.window(begin, begin + timedelta(hours=1)))
    return sent


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    assert run(7) == run(7)
    assert run(7) != run(8)


def test_duplicates_and_conflicts_reuse_ids_at_their_rates() -> None:
    sent = run(3, Options(duplicate_rate=0.1, conflict_rate=0.02))
    kinds = Counter(kind for kind, _ in sent)
    originals = kinds["original"]
    assert 0.07 < kinds["duplicate"] / originals < 0.13
    assert 0.005 < kinds["conflict"] / originals < 0.04
    original_ids = {i for kind, i in sent if kind == "original"}
    assert all(i in original_ids for kind, i in sent if kind != "original")


def test_rhythms_peak_in_office_hours_and_on_weekdays() -> None:
    assert daily_rhythm(14) > 5 * daily_rhythm(3)
    assert weekly_rhythm(2) > 3 * weekly_rhythm(6)


def test_population_mixes_plans_and_trends_reproducibly() -> None:
    population = build_population(200, seed=1)
    assert {a.plan.key for a in population} == {"starter", "growth", "enterprise"}
    assert {a.trend for a in population} == set(Trend)
    assert [a.id for a in population] == [a.id for a in build_population(200, seed=1)]


def test_some_seats_stay_idle_and_every_account_has_an_active_user() -> None:
    population = build_population(200, seed=2)
    seats = [u for a in population for u in a.users]
    idle = {u.id for u in seats if u.activity == 0}
    assert 0.1 < len(idle) / len(seats) < 0.4
    assert all(a.active_users for a in population)
    assert {a.timezone for a in population} == set(ZONES.values())
    stream = UsageStream(population, START, 2)
    users = {s.event["data"]["user_id"] for s in stream.window(START, START + timedelta(days=2))}
    assert users and not users & idle


def test_the_day_rhythm_holds_when_windows_are_longer_than_an_hour() -> None:
    in_utc = [a for a in build_population(80, seed=4) if a.timezone == "UTC"]
    stream = UsageStream(in_utc, START, 4, Options(late_rate=0))
    hours = Counter(
        datetime.fromisoformat(s.event["time"]).hour
        for s in stream.window(START, START + timedelta(days=5))  # one window of five days
    )
    assert sum(hours[h] for h in range(12, 17)) > 3 * sum(hours[h] for h in range(0, 5))
