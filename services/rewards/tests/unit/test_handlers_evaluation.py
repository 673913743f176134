"""Evaluating usage and license events against each rule kind: a reward at most once per
qualifying period, however often the events are replayed."""

from __future__ import annotations

from datetime import date, timedelta

from services.rewards.tests.unit.harness import ACCOUNT, TENANT, Harness, usage
from tangible_rewards.domain import commands
from tangible_rewards.domain.adoption import SeatChange
from tangible_rewards.domain.licenses import LicenseFact
from tangible_rewards.domain.model import (
    AdoptionParams,
    AnniversaryParams,
    Repeat,
    RuleKind,
    StreakMode,
    StreakParams,
    ThresholdParams,
    TimeToValueParams,
)
from tangible_rewards.domain.periods import Period
from tangible_rewards.service_layer import handlers
from tangible_schemas.rewards import MilestoneReached, RewardGranted

DAY = timedelta(days=1)


def granted(harness: Harness) -> list[tuple[str | None, str | None]]:
    return [(e.rule_key, e.period_key) for e in harness.events(RewardGranted)]


def license_created(start: date, license_id: str = "lic-1") -> LicenseFact:
    end = start.replace(year=start.year + 1)
    return LicenseFact(TENANT, ACCOUNT, license_id, "created", "active", term_start=start, term_end=end)


def seat(user: str, assigned: bool = True) -> commands.SeatFact:
    return commands.SeatFact(TENANT, ACCOUNT, SeatChange("lic-1", user, assigned))


async def test_a_lifetime_threshold_is_rewarded_once_and_a_replayed_batch_changes_nothing(
    harness: Harness,
) -> None:
    await harness.rule("champion", RuleKind.USAGE_THRESHOLD, ThresholdParams("report.generated", 3))
    now = harness.clock.now()
    batch = [usage(now), usage(now, quantity=2), usage(now, "login")]

    first = await harness.use(*batch)
    replay = await harness.use(*batch)
    await harness.use(usage(now, quantity=10))

    assert (first.fresh, first.rewarded, replay.fresh) == (3, 1, 0)
    assert granted(harness) == [("champion", "lifetime")]
    assert [e.value for e in harness.events(MilestoneReached)] == [3.0]


async def test_a_repeating_threshold_is_rewarded_once_per_window(harness: Harness) -> None:
    params = ThresholdParams("report.generated", 2, window="month")
    await harness.rule("monthly", RuleKind.USAGE_THRESHOLD, params, repeat=Repeat.PER_PERIOD)
    november = harness.clock.now()
    await harness.use(usage(november), usage(november))
    await harness.use(usage(november), usage(november))
    harness.clock.advance(10 * DAY)
    december = harness.clock.now()
    await harness.use(usage(december), usage(december))

    assert granted(harness) == [("monthly", "2026-11"), ("monthly", "2026-12")]


async def test_usage_later_than_the_late_window_does_not_count_toward_a_closed_period(
    harness: Harness,
) -> None:
    params = ThresholdParams("report.generated", 1, window="day")
    await harness.rule("daily", RuleKind.USAGE_THRESHOLD, params, repeat=Repeat.PER_PERIOD)
    outcome = await harness.use(usage(harness.clock.now() - 3 * DAY))

    assert (outcome.fresh, outcome.too_late, granted(harness)) == (1, 1, [])


async def test_a_streak_is_rewarded_on_its_third_day_in_a_row_and_not_again_on_replays(
    harness: Harness,
) -> None:
    params = StreakParams(StreakMode.CONSECUTIVE_DAYS, days=3)
    await harness.rule("three-days", RuleKind.STREAK, params)
    for _ in range(3):
        await harness.use(usage(harness.clock.now()))
        harness.clock.advance(DAY)
    harness.clock.advance(-DAY)
    third_day = usage(harness.clock.now(), event_id="day-3")
    await harness.use(third_day)
    await harness.use(third_day, usage(harness.clock.now()))

    assert granted(harness) == [("three-days", "lifetime")]


async def test_a_streak_repeating_per_week_is_rewarded_once_per_week(harness: Harness) -> None:
    params = StreakParams(StreakMode.CONSECUTIVE_DAYS, days=2)
    await harness.rule(
        "two-days", RuleKind.STREAK, params, repeat=Repeat.PER_PERIOD, repeat_period=Period.WEEK
    )
    for _ in range(9):  # Thursday 26 November to Friday 4 December
        await harness.use(usage(harness.clock.now()))
        harness.clock.advance(DAY)

    assert granted(harness) == [("two-days", "2026-W48"), ("two-days", "2026-W49")]


async def test_adoption_is_rewarded_when_enough_seat_holders_are_active(harness: Harness) -> None:
    params = AdoptionParams(percent=50, window_days=30, min_seats=2)
    await harness.rule("adoption", RuleKind.ADOPTION, params)
    await harness.entitlements(seat("u1"), seat("u2"), seat("u3"), seat("u4"))
    now = harness.clock.now()
    await harness.use(usage(now, user_id="u1"))
    assert granted(harness) == []

    await harness.use(usage(now, user_id="u2"), usage(now, user_id="u3"))
    await harness.use(usage(now, user_id="u4"))
    assert granted(harness) == [("adoption", "lifetime")]


async def test_a_seat_taken_back_raises_the_active_share(harness: Harness) -> None:
    await harness.rule("adoption", RuleKind.ADOPTION, AdoptionParams(percent=100, window_days=30))
    await harness.entitlements(seat("u1"), seat("u2"))
    await harness.use(usage(harness.clock.now(), user_id="u1"))
    assert granted(harness) == []

    await harness.entitlements(seat("u2", assigned=False))
    assert granted(harness) == [("adoption", "lifetime")]


async def test_an_anniversary_of_continuous_license_is_rewarded_once_however_often_the_job_runs(
    harness: Harness,
) -> None:
    await harness.rule("first-year", RuleKind.ANNIVERSARY, AnniversaryParams(years=1))
    await harness.entitlements(license_created(date(2025, 11, 20)))

    assert [await harness.run(handlers.grant_anniversaries) for _ in range(2)] == [1, 0]
    assert granted(harness) == [("first-year", "lifetime")]


async def test_time_to_value_is_rewarded_within_its_window_once_per_license(harness: Harness) -> None:
    params = TimeToValueParams("report.generated", days=14, target=2)
    await harness.rule("fast-start", RuleKind.TIME_TO_VALUE, params)
    await harness.entitlements(license_created(harness.clock.now().date()))
    harness.clock.advance(3 * DAY)
    now = harness.clock.now()
    await harness.use(usage(now))
    assert granted(harness) == []

    await harness.use(usage(now), usage(now))
    assert granted(harness) == [("fast-start", "lifetime")]
    assert [e.period_key for e in harness.events(MilestoneReached)] == ["lifetime"]


async def test_time_to_value_missed_when_the_usage_comes_after_the_window(harness: Harness) -> None:
    params = TimeToValueParams("report.generated", days=7, target=1)
    await harness.rule("fast-start", RuleKind.TIME_TO_VALUE, params)
    await harness.entitlements(license_created(harness.clock.now().date()))
    harness.clock.advance(10 * DAY)
    await harness.use(usage(harness.clock.now()))

    assert granted(harness) == []


async def test_a_disabled_rule_stops_counting(harness: Harness) -> None:
    await harness.rule("champion", RuleKind.USAGE_THRESHOLD, ThresholdParams("report.generated", 1))
    await handlers.set_rule_enabled(commands.SetRuleEnabled(TENANT, "champion", False), uow=harness.uow)
    outcome = await harness.use(usage(harness.clock.now()))

    assert (outcome.fresh, granted(harness)) == (1, [])
