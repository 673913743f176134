"""Commands the rewards service handles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tangible_rewards.domain.evaluation import Usage
from tangible_rewards.domain.model import Reward, RuleKind


@dataclass(frozen=True)
class CreateMilestoneRule:
    tenant_id: str
    key: str
    name: str
    kind: RuleKind
    params: dict[str, Any]
    reward: Reward


@dataclass(frozen=True)
class EvaluateUsage:
    consumer: str
    usages: Sequence[Usage]
