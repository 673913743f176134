"""Evaluating usage against milestone rules: which progress moves, which milestones are met."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from tangible_rewards.domain.model import MilestoneRule, RuleKind


@dataclass(frozen=True)
class Usage:
    event_id: str
    tenant_id: str
    account_id: str
    usage_type: str
    occurred_at: datetime
    quantity: float
    user_id: str | None


@dataclass(frozen=True)
class ProgressKey:
    tenant_id: str
    account_id: str
    rule_id: str
    period_key: str


def progress_increments(
    usages: Iterable[Usage], rules_by_tenant: Mapping[str, list[MilestoneRule]]
) -> dict[ProgressKey, float]:
    """Fold a batch into one increment per (account, rule, period)."""
    increments: dict[ProgressKey, float] = {}
    for usage in usages:
        for rule in rules_by_tenant.get(usage.tenant_id, []):
            if rule.enabled and rule.kind is RuleKind.USAGE_THRESHOLD and rule.usage_type == usage.usage_type:
                key = ProgressKey(usage.tenant_id, usage.account_id, rule.id, "lifetime")
                increments[key] = increments.get(key, 0.0) + usage.quantity
    return increments
