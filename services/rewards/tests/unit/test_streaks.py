"""Streaks: runs of active days, weekly streaks, breaks, and days in the account's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tangible_rewards.domain.evaluation import DayKey, Lateness, RuleIndex, Usage, fold_usage
from tangible_rewards.domain.model import (
    MilestoneRule,
    Reward,
    RewardKind,
    RuleKind,
    StreakMode,
    StreakParams,
)
from tangible_rewards.domain.streaks import evaluate

DAYS_5 = StreakParams(StreakMode.CONSECUTIVE_DAYS, days=5)
WEEKLY = StreakParams(StreakMode.DAYS_IN_WEEKS, days=3, weeks=2)
MON = date(2026, 11, 2)  # a Monday


def days(start: date, *offsets: int) -> set[date]:
    return {start + timedelta(days=o) for o in offsets}


def test_five_days_in_a_row_complete_on_the_fifth() -> None:
    active = days(MON, 0, 1, 2, 3, 4)
    state = evaluate(DAYS_5, active, touched={MON + timedelta(days=4)}, today=MON + timedelta(days=4))
    assert state.completions == (MON + timedelta(days=4),)
    assert (state.value, state.alive_until) == (5, MON + timedelta(days=5))


def test_a_gap_breaks_the_run() -> None:
    active = days(MON, 0, 1, 3, 4, 5)
    state = evaluate(DAYS_5, active, touched=active, today=MON + timedelta(days=5))
    assert state.completions == () and state.value == 3


def test_a_late_day_filling_the_gap_completes_the_run_on_a_later_day() -> None:
    active = days(MON, 0, 1, 2, 3, 4)
    state = evaluate(DAYS_5, active, touched={MON + timedelta(days=2)}, today=MON + timedelta(days=6))
    assert state.completions == (MON + timedelta(days=4),)


def test_today_not_over_yet_does_not_break_the_streak_but_tomorrow_without_activity_does() -> None:
    active = days(MON, 0, 1, 2)
    assert evaluate(DAYS_5, active, set(), today=MON + timedelta(days=3)).value == 3
    broken = evaluate(DAYS_5, active, set(), today=MON + timedelta(days=4))
    assert broken.value == 0 and broken.alive_until == MON + timedelta(days=3)


def test_weekly_streak_needs_enough_days_in_each_consecutive_week() -> None:
    two_good_weeks = days(MON, 0, 2, 4, 7, 8, 9)
    state = evaluate(WEEKLY, two_good_weeks, touched={MON + timedelta(days=9)}, today=MON + timedelta(days=9))
    assert state.completions == (MON + timedelta(days=9),)  # the day week 2 got its third day
    assert state.value == 2


def test_a_thin_week_breaks_a_weekly_streak() -> None:
    thin_first_week = days(MON, 0, 2, 7, 8, 9)
    state = evaluate(WEEKLY, thin_first_week, touched=thin_first_week, today=MON + timedelta(days=9))
    assert state.completions == () and state.value == 1


def test_a_weekly_streak_survives_the_current_week_until_it_is_over() -> None:
    active = days(MON, 0, 1, 2)  # week 1 qualifies
    assert evaluate(WEEKLY, active, set(), today=MON + timedelta(days=13)).value == 1  # Sunday of week 2
    assert evaluate(WEEKLY, active, set(), today=MON + timedelta(days=14)).value == 0  # week 2 ended thin


def test_active_days_are_local_days_at_the_day_boundary() -> None:
    """Two events 2 h apart in UTC fall on two different days in Auckland: a 2-day run there."""
    rule = MilestoneRule(
        "r1",
        "streak",
        1,
        "Streak",
        RuleKind.STREAK,
        StreakParams(StreakMode.CONSECUTIVE_DAYS, 2),
        Reward(RewardKind.CREDITS, Decimal(1)),
    )
    late_evening = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)  # 23:30 in Auckland (UTC+13)
    after_midnight = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)  # 01:30 the next day there
    usages = [
        Usage("e1", "t1", "a1", "report.generated", late_evening, 1, None),
        Usage("e2", "t1", "a1", "report.generated", after_midnight, 1, None),
    ]
    now = datetime(2026, 11, 25, 13, tzinfo=UTC)

    def fold_in(zone: str) -> set[date]:
        index = {"t1": RuleIndex.of([rule])}
        result = fold_usage(usages, index, lambda t, a: ZoneInfo(zone), Lateness(now, timedelta(hours=24)))
        return {key.day for key in result.days}

    auckland, utc = fold_in("Pacific/Auckland"), fold_in("UTC")
    assert auckland == {date(2026, 11, 25), date(2026, 11, 26)}
    assert utc == {date(2026, 11, 25)}
    params = StreakParams(StreakMode.CONSECUTIVE_DAYS, 2)
    assert evaluate(params, auckland, auckland, today=date(2026, 11, 26)).completions == (date(2026, 11, 26),)
    assert evaluate(params, utc, utc, today=date(2026, 11, 25)).completions == ()


def test_day_keys_are_per_activity_key() -> None:
    key = DayKey("t1", "a1", "*", date(2026, 11, 1))
    assert key.activity_key == "*"
