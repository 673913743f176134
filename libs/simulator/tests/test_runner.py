"""The runner against an in-memory usage-ingest: history replays, shards, tallies."""

from __future__ import annotations

import pickle
from collections import Counter
from datetime import UTC, datetime, timedelta

from tangible_client.testing import FakeIngest
from tangible_simulator.generator import Options
from tangible_simulator.runner import Plan, run_shard, shard_accounts, simulate
from tangible_simulator.tally import Tally

START = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday


def _plan(fake: FakeIngest, **overrides: object) -> Plan:
    base: dict[str, object] = {
        "url": "http://ingest",
        "token": "t",
        "accounts": 12,
        "seed": 9,
        "start": START,
        "speed": 14 * 86400 / 2.0,  # two weeks in two seconds
        "duration": 30.0,
        "rate": 1e9,
        "until": START + timedelta(days=14),
        "options": Options(late_rate=0.05, duplicate_rate=0.05, volume=0.3),
        "transport": fake.transport,
    }
    return Plan(**(base | overrides))  # type: ignore[arg-type]


def _times(fake: FakeIngest) -> list[datetime]:
    return [datetime.fromisoformat(e["time"]) for batch in fake.batches() for e in batch]


async def test_a_history_replay_stops_at_its_end_and_dates_events_across_it() -> None:
    fake = FakeIngest()
    tally = await simulate(_plan(fake))
    times = _times(fake)
    end = START + timedelta(days=14)
    assert max(times) <= end
    assert min(times) < START + timedelta(days=1)  # began at the start of the history
    assert max(times) > end - timedelta(days=1)  # and went on to its end, well before `duration`
    assert tally.outcomes["accepted"] == len(tally.accepted_ids) == tally.sent["original"]
    assert tally.outcomes["duplicate"] == tally.sent["duplicate"] > 0


async def test_late_events_are_dated_hours_before_what_was_already_sent() -> None:
    fake = FakeIngest()
    days = 3
    plan = _plan(
        fake,
        connections=1,  # one client: requests arrive in the order the events were generated
        speed=days * 86400 / 3.0,
        until=START + timedelta(days=days),
        options=Options(late_rate=0.2, late_hours=(30.0, 40.0), volume=0.5),
    )
    await simulate(plan)
    times = _times(fake)
    newest, late = times[0], 0
    for t in times:
        late += t < newest - timedelta(hours=20)
        newest = max(newest, t)
    assert 0.12 < late / len(times) < 0.25


async def test_volume_scales_the_number_of_events() -> None:
    low, high = FakeIngest(), FakeIngest()
    await simulate(_plan(low, options=Options(volume=0.1)))
    await simulate(_plan(high, options=Options(volume=0.4)))
    assert 3 < len(_times(high)) / len(_times(low)) < 5


async def test_weekdays_are_busier_than_weekends_and_trends_show_over_weeks() -> None:
    fake = FakeIngest()
    await simulate(_plan(fake, accounts=40, options=Options(volume=0.2, late_rate=0)))
    by_weekday = Counter(t.weekday() for t in _times(fake))
    assert min(by_weekday[d] for d in range(5)) > 2 * max(by_weekday[5], by_weekday[6])
    population = {a.id: a for a in shard_accounts(_plan(fake, accounts=40), 0)}
    weeks: dict[str, Counter[int]] = {"growing": Counter(), "declining": Counter()}
    for batch in fake.batches():
        for event in batch:
            trend = population[event["subject"]].trend.value
            if trend in weeks:
                weeks[trend][(datetime.fromisoformat(event["time"]) - START).days // 7] += 1
    assert weeks["growing"][1] > weeks["growing"][0]
    assert weeks["declining"][1] < weeks["declining"][0]


def test_shards_split_the_population_without_overlap() -> None:
    plan = Plan(url="http://ingest", token="t", accounts=25, processes=3)
    shards = [shard_accounts(plan, shard) for shard in range(3)]
    ids = [a.id for shard in shards for a in shard]
    assert len(ids) == len(set(ids)) == 25
    assert {len(s) for s in shards} == {8, 9}


async def test_each_shard_sends_only_its_accounts_and_merged_tallies_add_up() -> None:
    fakes = [FakeIngest(), FakeIngest()]
    tallies = []
    for shard, fake in enumerate(fakes):
        plan = _plan(fake, processes=2, max_events=200)
        tally = Tally()
        await run_shard(plan, tally, shard)
        assert {e["subject"] for b in fake.batches() for e in b} <= {
            a.id for a in shard_accounts(plan, shard)
        }
        assert sum(tally.sent.values()) == 100  # its share of max_events
        tallies.append(pickle.loads(pickle.dumps(tally)))  # shard tallies travel between processes
    merged = Tally()
    for tally in tallies:
        merged.merge(tally)
    assert merged.accepted_ids == tallies[0].accepted_ids | tallies[1].accepted_ids
    assert sum(merged.sent.values()) == 200
    assert sum(sum(c.values()) for c in merged.events.values()) == len(merged.accepted_ids)
    assert merged.users.keys() == tallies[0].users.keys() | tallies[1].users.keys()


async def test_progress_is_reported_with_the_simulated_time() -> None:
    seen: list[tuple[datetime, int]] = []
    fake = FakeIngest()
    await simulate(_plan(fake, progress=lambda at, sent: seen.append((at, sent))))
    assert seen and all(START < at <= START + timedelta(days=14) for at, _ in seen)
    assert [sent for _, sent in seen] == sorted(sent for _, sent in seen)
