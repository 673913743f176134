"""The usage report's peer ranking: one read of a plan's distribution serves every report for a
while; small plans are ranked afresh; the rank is a bisection that counts ties half."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from tangible_entitlements.domain.model import Aggregation
from tangible_entitlements.service_layer.cohorts import CohortDistributions, CohortKey, Distribution

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
KEY = CohortKey("t1", "growth", "reports", Aggregation.SUM, date(2026, 11, 1), date(2026, 11, 30))


class Plan:
    """The database's side: each read returns the members' totals as they are now."""

    def __init__(self, totals: list[float]) -> None:
        self.totals = totals
        self.reads = 0

    async def read(self) -> list[float]:
        self.reads += 1
        await asyncio.sleep(0)  # a real read yields: concurrent reports ask meanwhile
        return list(self.totals)


def test_the_rank_counts_ties_half_in_whole_numbers() -> None:
    five = Distribution((10, 20, 30, 40, 50), NOW)
    assert [five.percentile_rank(v) for v in (10, 30, 50)] == [10, 50, 90]
    assert Distribution((10,) * 5, NOW).percentile_rank(10) == 50
    # summed in another order by the database: still the same figure
    assert Distribution((0.1 + 0.2, 1.0), NOW).percentile_rank(0.3) == 25


def test_an_account_whose_figure_is_newer_than_the_distribution_is_counted_in() -> None:
    read_earlier = Distribution((10, 20, 30, 40), NOW)
    assert read_earlier.percentile_rank(35) == 70  # (3 below + 0.5) of 5
    assert read_earlier.percentile_rank(99) == 90


async def test_a_distribution_is_read_once_per_ttl_of_the_service_clock() -> None:
    plan = Plan([float(n) for n in range(600)])
    cohorts = CohortDistributions(timedelta(minutes=5), min_members=500)
    first = await cohorts.get(KEY, NOW, plan.read)
    plan.totals.append(1000.0)  # a new member, or new usage, after the read
    again = await cohorts.get(KEY, NOW + timedelta(minutes=4, seconds=59), plan.read)
    assert again is first and plan.reads == 1
    later = await cohorts.get(KEY, NOW + timedelta(minutes=5), plan.read)
    assert len(later) == 601 and plan.reads == 2
    october = (date(2026, 10, 1), date(2026, 10, 31))
    other_period = CohortKey("t1", "growth", "reports", Aggregation.SUM, *october)
    await cohorts.get(other_period, NOW + timedelta(minutes=5), plan.read)
    assert plan.reads == 3


async def test_a_plan_smaller_than_the_threshold_is_read_afresh_every_time() -> None:
    plan = Plan([1.0, 2.0, 3.0, 4.0, 5.0])
    cohorts = CohortDistributions(timedelta(minutes=5), min_members=500)
    await cohorts.get(KEY, NOW, plan.read)
    plan.totals.append(6.0)
    assert len(await cohorts.get(KEY, NOW, plan.read)) == 6 and plan.reads == 2


async def test_concurrent_reports_of_one_plan_share_one_read() -> None:
    plan = Plan([float(n) for n in range(1000)])
    cohorts = CohortDistributions(timedelta(minutes=5), min_members=500)
    got = await asyncio.gather(*(cohorts.get(KEY, NOW, plan.read) for _ in range(8)))
    assert plan.reads == 1 and all(d is got[0] for d in got)


async def test_a_failed_read_fails_its_waiters_and_the_next_report_reads_again() -> None:
    cohorts = CohortDistributions(timedelta(minutes=5), min_members=0)

    async def broken() -> list[float]:
        await asyncio.sleep(0)
        raise ConnectionError("database went away")

    results = await asyncio.gather(*(cohorts.get(KEY, NOW, broken) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    plan = Plan([1.0])
    assert len(await cohorts.get(KEY, NOW, plan.read)) == 1


async def test_a_waiter_reads_itself_when_the_request_reading_for_it_is_cancelled() -> None:
    cohorts = CohortDistributions(timedelta(minutes=5), min_members=0)
    started = asyncio.Event()

    async def slow() -> list[float]:
        started.set()
        await asyncio.sleep(60)
        return [1.0]

    reading = asyncio.create_task(cohorts.get(KEY, NOW, slow))
    await started.wait()
    plan = Plan([1.0, 2.0])
    waiting = asyncio.create_task(cohorts.get(KEY, NOW, plan.read))
    await asyncio.sleep(0)
    reading.cancel()  # its client went away
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert len(await waiting) == 2 and plan.reads == 1


async def test_the_least_recently_read_distribution_is_dropped_beyond_the_bound() -> None:
    plan = Plan([1.0])
    cohorts = CohortDistributions(timedelta(minutes=5), min_members=0, max_entries=2)
    keys = [CohortKey("t1", plan_key, "reports", Aggregation.SUM, KEY.start, KEY.end) for plan_key in "abc"]
    for key in keys:
        await cohorts.get(key, NOW, plan.read)
    assert plan.reads == 3
    await cohorts.get(keys[2], NOW, plan.read)
    await cohorts.get(keys[1], NOW, plan.read)
    assert plan.reads == 3
    await cohorts.get(keys[0], NOW, plan.read)  # dropped when c arrived
    assert plan.reads == 4
