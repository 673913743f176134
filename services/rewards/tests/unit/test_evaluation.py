"""Cumulative usage thresholds: what counts, toward which period, and when it is too late."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tangible_rewards.domain.errors import InvalidRule
from tangible_rewards.domain.evaluation import (
    CounterKey,
    Lateness,
    RuleIndex,
    Usage,
    fold_usage,
    threshold_achievements,
)
from tangible_rewards.domain.model import MilestoneRule, Repeat, Reward, RewardKind, RuleKind, ThresholdParams
from tangible_rewards.domain.periods import Period

CREDITS = Reward(RewardKind.CREDITS, Decimal(10))


def rule(params: ThresholdParams, *, key: str = "champion", **options: Any) -> MilestoneRule:
    return MilestoneRule(
        f"r-{key}-{params.usage_type}",
        key,
        1,
        "Champion",
        RuleKind.USAGE_THRESHOLD,
        params,
        CREDITS,
        **options,
    )


def usage(at: datetime, usage_type: str = "report.generated", quantity: float = 1) -> Usage:
    return Usage(str(uuid.uuid4()), "t1", "a1", usage_type, at, quantity, None)


NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
LIFETIME = rule(ThresholdParams("report.generated", 10))
MONTHLY = rule(
    ThresholdParams("report.generated", 3, window="month"), key="monthly", repeat=Repeat.PER_PERIOD
)


def fold(usages, rules, *, zone: str = "UTC", late: timedelta = timedelta(hours=48)):
    return fold_usage(usages, {"t1": RuleIndex.of(rules)}, lambda t, a: ZoneInfo(zone), Lateness(NOW, late))


def test_matching_usage_moves_lifetime_counters_once_per_rule() -> None:
    result = fold([usage(NOW, quantity=2), usage(NOW), usage(NOW, "login")], [LIFETIME])
    assert result.counters == {CounterKey("t1", "a1", LIFETIME.series, "lifetime"): 3.0}


def test_disabled_rules_do_not_count() -> None:
    disabled = rule(ThresholdParams("report.generated", 1), enabled=False)
    assert fold([usage(NOW)], [disabled]).counters == {}


def test_windowed_thresholds_count_toward_the_period_the_event_occurred_in() -> None:
    last_month = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    result = fold([usage(NOW), usage(last_month)], [MONTHLY], late=timedelta(days=30))
    assert result.counters == {
        CounterKey("t1", "a1", MONTHLY.series, "2026-11"): 1.0,
        CounterKey("t1", "a1", MONTHLY.series, "2026-10"): 1.0,
    }


def test_the_period_is_the_accounts_local_one() -> None:
    # 23:30 UTC on 31 October is already 1 November in Berlin
    halloween_night = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    result = fold([usage(halloween_night)], [MONTHLY], zone="Europe/Berlin")
    assert list(result.counters) == [CounterKey("t1", "a1", MONTHLY.series, "2026-11")]


def test_events_later_than_the_late_window_after_their_period_closed_do_not_count() -> None:
    october = datetime(2026, 10, 20, tzinfo=UTC)  # October closed 25 days before NOW
    late = fold([usage(october)], [MONTHLY], late=timedelta(days=7))
    assert late.counters == {} and late.too_late == 1
    in_time = fold([usage(october)], [MONTHLY], late=timedelta(days=26))
    assert in_time.counters and in_time.too_late == 0


def test_lifetime_counters_never_close_so_late_events_always_count() -> None:
    long_ago = NOW - timedelta(days=400)
    assert fold([usage(long_ago)], [LIFETIME], late=timedelta(0)).counters


def test_counters_at_or_over_target_are_achievements_for_their_period() -> None:
    index = {"t1": RuleIndex.of([LIFETIME, MONTHLY])}
    values = {
        CounterKey("t1", "a1", LIFETIME.series, "lifetime"): 9.0,
        CounterKey("t1", "a1", MONTHLY.series, "2026-11"): 3.0,
    }
    [achieved] = threshold_achievements(values, index)
    assert (achieved.rule, achieved.qualifying, achieved.reward_period) == (MONTHLY, "2026-11", "2026-11")


def test_once_rules_reward_at_most_once_ever_whatever_the_window() -> None:
    once_monthly = rule(ThresholdParams("report.generated", 3, window="month"), key="once")
    [achieved] = threshold_achievements(
        {CounterKey("t1", "a1", once_monthly.series, "2026-11"): 5.0}, {"t1": RuleIndex.of([once_monthly])}
    )
    assert achieved.reward_period == "lifetime"


def test_a_lifetime_threshold_cannot_repeat_per_period() -> None:
    with pytest.raises(InvalidRule):
        rule(ThresholdParams("x", 1), repeat=Repeat.PER_PERIOD)
    with pytest.raises(InvalidRule):
        rule(ThresholdParams("x", 1, "month"), repeat_period=Period.WEEK)


def test_a_new_version_keeps_progress_unless_what_is_counted_changed() -> None:
    higher_target = MilestoneRule(
        "v2",
        "champion",
        1,
        "Champion",
        RuleKind.USAGE_THRESHOLD,
        ThresholdParams("report.generated", 20),
        CREDITS,
    )
    other_type = MilestoneRule(
        "v2b",
        "champion",
        1,
        "Champion",
        RuleKind.USAGE_THRESHOLD,
        ThresholdParams("export.done", 10),
        CREDITS,
    )
    kept = LIFETIME.next_version(higher_target)
    assert (kept.version, kept.series) == (2, LIFETIME.series)
    restarted = LIFETIME.next_version(other_type)
    assert restarted.series == other_type.id != LIFETIME.series


def test_a_threshold_over_any_usage_counts_every_event_type() -> None:
    anything = rule(ThresholdParams("*", 5), key="busy")
    result = fold([usage(NOW), usage(NOW, "login", quantity=2)], [anything])
    assert result.counters == {CounterKey("t1", "a1", anything.series, "lifetime"): 3.0}
