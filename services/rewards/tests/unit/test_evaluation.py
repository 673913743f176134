"""Milestone progress from usage."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tangible_rewards.domain.evaluation import ProgressKey, Usage, progress_increments
from tangible_rewards.domain.model import MilestoneRule, Progress, Reward, RewardKind, RuleKind

RULE = MilestoneRule(
    "r1",
    "champion",
    1,
    "Champion",
    RuleKind.USAGE_THRESHOLD,
    Reward(RewardKind.CREDITS, Decimal(10)),
    params={"usage_type": "report.generated", "target": 10},
)


def usage(event_id: str, kind: str = "report.generated", quantity: float = 1) -> Usage:
    return Usage(event_id, "t1", "a1", kind, datetime(2026, 11, 1, tzinfo=UTC), quantity, None)


def test_matching_usage_moves_progress_once_per_rule() -> None:
    increments = progress_increments(
        [usage("1", quantity=2), usage("2"), usage("3", kind="login")], {"t1": [RULE]}
    )
    assert increments == {ProgressKey("t1", "a1", "r1", "lifetime"): 3.0}


def test_disabled_rules_do_not_move() -> None:
    disabled = MilestoneRule(**{**RULE.__dict__, "enabled": False})
    assert progress_increments([usage("1")], {"t1": [disabled]}) == {}


def test_progress_reports_percent_and_what_is_left() -> None:
    progress = Progress(RULE, 8)
    assert (progress.percent, progress.remaining, progress.reached) == (80.0, 2.0, False)
    assert Progress(RULE, 12).percent == 100.0 and Progress(RULE, 12).reached
