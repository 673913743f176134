"""Progress in numbers and in one plain-language sentence."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from tangible_rewards.domain.adoption import Adoption
from tangible_rewards.domain.licenses import LicenseState
from tangible_rewards.domain.model import (
    AdoptionParams,
    AnniversaryParams,
    MilestoneRule,
    Reward,
    RewardKind,
    RuleKind,
    RuleParams,
    StreakMode,
    StreakParams,
    ThresholdParams,
    TimeToValueParams,
)
from tangible_rewards.domain.progress import Progress, Status
from tangible_rewards.service_layer.views import AccountFacts, progress_of

TODAY = date(2026, 11, 26)
CREDITS = Reward(RewardKind.CREDITS, Decimal(100))


def rule(kind: RuleKind, params: RuleParams, name: str = "Champion") -> MilestoneRule:
    return MilestoneRule(f"id-{kind}", f"key-{kind}", 1, name, kind, params, CREDITS)


def facts(**overrides: object) -> AccountFacts:
    base: dict[str, object] = {
        "today": TODAY,
        "now": None,
        "values": {},
        "rewarded": set(),
        "licenses": [],
        "adoption": {},
        "usage_days": {},
    }
    return AccountFacts(**{**base, **overrides})  # type: ignore[arg-type]


REPORTS = rule(RuleKind.USAGE_THRESHOLD, ThresholdParams("report.generated", 10_000, unit_label="reports"))


def test_the_summary_says_how_far_and_what_is_left() -> None:
    progress = Progress(REPORTS, 8_000, 10_000)
    assert (progress.percent, progress.remaining, progress.status) == (80.0, 2_000, Status.IN_PROGRESS)
    assert progress.summary == "80 % to Champion: 2,000 more reports"


def test_never_says_100_percent_before_it_is_reached() -> None:
    assert Progress(REPORTS, 9_999, 10_000).summary == "99 % to Champion: 1 more reports"
    assert Progress(REPORTS, 10_000, 10_000).summary == "100 % to Champion: reached"


def test_threshold_progress_reads_the_current_window_and_knows_it_was_rewarded() -> None:
    monthly = rule(RuleKind.USAGE_THRESHOLD, ThresholdParams("report.generated", 10, window="month"))
    state = facts(
        values={(monthly.series, "2026-11"): (4.0, None), (monthly.series, "2026-10"): (12.0, None)}
    )
    progress = progress_of(monthly, state)
    assert (progress.current, progress.period_key, progress.reached) == (4.0, "2026-11", False)
    rewarded = facts(values={}, rewarded={(monthly.key, "lifetime")})
    assert progress_of(monthly, rewarded).reached  # a once rule stays reached


def test_a_broken_streak_shows_zero() -> None:
    streak = rule(RuleKind.STREAK, StreakParams(StreakMode.CONSECUTIVE_DAYS, 7))
    alive = facts(values={(streak.series, "streak"): (4.0, TODAY)})
    broken = facts(values={(streak.series, "streak"): (4.0, TODAY - timedelta(days=1))})
    assert progress_of(streak, alive).summary == "57 % to Champion: 3 more days"
    assert progress_of(streak, broken).current == 0


def test_adoption_counts_active_seats_against_the_seats_needed() -> None:
    adoption = rule(RuleKind.ADOPTION, AdoptionParams(percent=80, window_days=30), name="Rollout")
    progress = progress_of(adoption, facts(adoption={("*", 30): Adoption(assigned=10, active=6)}))
    assert (progress.current, progress.target) == (6, 8)
    assert progress.summary == "75 % to Rollout: 2 more active seats"


def test_time_to_value_is_missed_once_its_window_closed() -> None:
    ttv = rule(
        RuleKind.TIME_TO_VALUE, TimeToValueParams("report.generated", days=14, target=5), name="Quick start"
    )
    license_ = LicenseState(
        "t1", "a1", "l1", "active", date(2026, 10, 1), date(2027, 10, 1), date(2026, 10, 1)
    )
    progress = progress_of(
        ttv, facts(licenses=[license_], usage_days={"report.generated": {date(2026, 10, 2): 2}})
    )
    assert progress.status is Status.MISSED and progress.current == 2
    assert progress.summary == "Quick start: the time to reach it has passed"


def test_anniversary_progress_counts_days_of_continuous_license() -> None:
    anniversary = rule(RuleKind.ANNIVERSARY, AnniversaryParams(years=1), name="Loyal")
    license_ = LicenseState("t1", "a1", "l1", "active", date(2026, 1, 1), date(2027, 1, 1), date(2026, 1, 1))
    progress = progress_of(anniversary, facts(licenses=[license_]))
    assert (progress.current, progress.target, progress.remaining) == (329, 365, 36)
    assert progress.summary == "90 % to Loyal: 36 more days"
