"""Domain facts → wire events (libs/schemas)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from tangible_rewards.domain.catalogue import CatalogItem
from tangible_rewards.domain.evaluation import Achievement
from tangible_rewards.domain.ledger import BalanceKey, Bucket, money
from tangible_rewards.domain.model import RewardKind
from tangible_schemas.rewards import (
    CreditsAdjusted,
    CreditsExpired,
    CreditsExpiringSoon,
    CreditsRedeemed,
    ItemRedeemed,
    MilestoneReached,
    RewardGranted,
)


def milestone_reached(achievement: Achievement, at: datetime | None = None) -> MilestoneReached:
    rule = achievement.rule
    return MilestoneReached(
        tenant_id=achievement.tenant_id,
        account_id=achievement.account_id,
        rule_id=rule.id,
        rule_version=rule.version,
        milestone_name=rule.name,
        period_key=achievement.reward_period,
        rule_key=rule.key,
        rule_kind=rule.kind.value,
        value=achievement.value,
        reached_at=at,
        imported=achievement.reached_at is not None,
    )


def credits_expire_at(achievement: Achievement, at: datetime) -> datetime | None:
    days = achievement.rule.reward.credits_expire_days
    return at + timedelta(days=days) if days and achievement.rule.reward.kind is RewardKind.CREDITS else None


def reward_granted(reward_id: str, achievement: Achievement, at: datetime) -> RewardGranted:
    rule, reward = achievement.rule, achievement.rule.reward
    credits = reward.kind is RewardKind.CREDITS
    return RewardGranted(
        tenant_id=achievement.tenant_id,
        account_id=achievement.account_id,
        reward_id=reward_id,
        rule_id=rule.id,
        kind=reward.kind.value,
        credits=money(reward.credits) if credits and reward.credits is not None else None,
        credits_expire_at=credits_expire_at(achievement, at),
        feature_key=reward.feature_key,
        support_level=reward.support_level,
        ends_at=at + timedelta(days=reward.duration_days) if reward.duration_days and not credits else None,
        name=reward.name or rule.name,
        description=reward.description,
        rule_key=rule.key,
        rule_version=rule.version,
        period_key=achievement.reward_period,
        credits_unit=reward.credits_unit if credits else None,
        granted_at=at,
        imported=achievement.reached_at is not None,
    )


def credits_redeemed(
    key: BalanceKey,
    redemption_id: str,
    amount: Decimal,
    balance_after: Decimal,
    description: str | None,
    *,
    item_key: str | None = None,
) -> CreditsRedeemed:
    return CreditsRedeemed(
        tenant_id=key[0],
        account_id=key[1],
        unit=key[2],
        redemption_id=redemption_id,
        amount=amount,
        balance_after=balance_after,
        description=description,
        item_key=item_key,
    )


def item_redeemed(
    key: BalanceKey,
    redemption_id: str,
    item: CatalogItem,
    balance_after: Decimal,
    remaining_stock: int | None,
    user_id: str | None,
) -> ItemRedeemed:
    return ItemRedeemed(
        tenant_id=key[0],
        account_id=key[1],
        unit=key[2],
        redemption_id=redemption_id,
        item_key=item.key,
        item_name=item.name,
        item_description=item.description,
        price=money(item.price),
        balance_after=balance_after,
        redeemed_by=user_id,
        remaining_stock=remaining_stock,
    )


def credits_expiring_soon(key: BalanceKey, bucket: Bucket) -> CreditsExpiringSoon:
    assert bucket.expires_at is not None
    return CreditsExpiringSoon(
        tenant_id=key[0],
        account_id=key[1],
        unit=key[2],
        bucket_id=bucket.id,
        amount=bucket.remaining,
        expires_at=bucket.expires_at,
        reward_id=bucket.reward_id,
    )


def credits_expired(key: BalanceKey, bucket: Bucket, balance_after: Decimal) -> CreditsExpired:
    return CreditsExpired(
        tenant_id=key[0],
        account_id=key[1],
        unit=key[2],
        bucket_id=bucket.id,
        amount=bucket.remaining,
        balance_after=balance_after,
        reward_id=bucket.reward_id,
    )


def credits_adjusted(
    key: BalanceKey,
    transaction_id: str,
    amount: Decimal,
    balance_after: Decimal,
    *,
    actor: str,
    reason: str,
    reward_id: str | None = None,
) -> CreditsAdjusted:
    return CreditsAdjusted(
        tenant_id=key[0],
        account_id=key[1],
        unit=key[2],
        transaction_id=transaction_id,
        amount=amount,
        balance_after=balance_after,
        actor=actor,
        reason=reason,
        kind="void" if reward_id else "adjustment",
        reward_id=reward_id,
    )
