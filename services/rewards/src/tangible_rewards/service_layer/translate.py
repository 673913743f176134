"""Domain facts → wire events (libs/schemas)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tangible_rewards.domain.evaluation import ProgressKey
from tangible_rewards.domain.model import MilestoneRule
from tangible_schemas.rewards import MilestoneReached, RewardGranted


def milestone_reached(key: ProgressKey, rule: MilestoneRule) -> MilestoneReached:
    return MilestoneReached(
        tenant_id=key.tenant_id,
        account_id=key.account_id,
        rule_id=rule.id,
        rule_version=rule.version,
        milestone_name=rule.name,
        period_key=key.period_key,
    )


def reward_granted(reward_id: str, key: ProgressKey, rule: MilestoneRule, at: datetime) -> RewardGranted:
    reward = rule.reward
    expires = at + timedelta(days=reward.credits_expire_days) if reward.credits_expire_days else None
    ends = at + timedelta(days=reward.duration_days) if reward.duration_days else None
    return RewardGranted(
        tenant_id=key.tenant_id,
        account_id=key.account_id,
        reward_id=reward_id,
        rule_id=rule.id,
        kind=reward.kind.value,
        credits=reward.credits,
        credits_expire_at=expires,
        feature_key=reward.feature_key,
        support_level=reward.support_level,
        ends_at=ends,
        name=reward.name or rule.name,
        description=reward.description,
    )
