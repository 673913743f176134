"""A tenant's lifecycle policy: renewal lead times, trial rules, signal thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from tangible_entitlements.domain.errors import InvalidSettings
from tangible_entitlements.domain.model import Feature, FeatureKind
from tangible_entitlements.domain.trials import ELIGIBILITY

MIN_COHORT = 5  # never fewer: a smaller cohort would let a percentile hint at one account


@dataclass(frozen=True)
class LifecyclePolicy:
    renewal_lead_days: tuple[int, ...] = (90, 60, 30, 7)
    trial_eligibility: str = "once_per_target"  # once_per_account | once_per_target | unlimited
    trial_max_days: int = 90
    trial_ending_soon_days: int = 3
    upgrade_near_limit_percent: float = 80.0
    upgrade_consecutive_periods: int = 2
    risk_decline_percent: float = 30.0
    risk_window_days: int = 90
    risk_min_volume: float = 20.0  # the noise rule: smaller volumes never signal a decline
    risk_period: str = "month"  # week | month
    key_features: tuple[str, ...] | None = None  # None: every metered feature
    cohort_min_size: int = MIN_COHORT

    def __post_init__(self) -> None:
        leads = self.renewal_lead_days
        if not leads or len(set(leads)) != len(leads) or not all(0 < d <= 730 for d in leads):
            raise InvalidSettings("renewal_lead_days: distinct days between 1 and 730")
        if self.trial_eligibility not in ELIGIBILITY:
            raise InvalidSettings(f"trial_eligibility: one of {', '.join(ELIGIBILITY)}")
        if not 1 <= self.trial_max_days <= 365 or not 0 <= self.trial_ending_soon_days <= 90:
            raise InvalidSettings("trial_max_days: 1–365; trial_ending_soon_days: 0–90")
        if not 0 < self.upgrade_near_limit_percent <= 100 or not 1 <= self.upgrade_consecutive_periods <= 12:
            raise InvalidSettings("upgrade_near_limit_percent: (0, 100]; upgrade_consecutive_periods: 1–12")
        if not 0 < self.risk_decline_percent <= 100 or not 1 <= self.risk_window_days <= 730:
            raise InvalidSettings("risk_decline_percent: (0, 100]; risk_window_days: 1–730")
        if self.risk_min_volume < 0 or self.risk_period not in ("week", "month"):
            raise InvalidSettings("risk_min_volume: ≥ 0; risk_period: week or month")
        if self.cohort_min_size < MIN_COHORT:
            raise InvalidSettings(f"cohort_min_size: at least {MIN_COHORT}")

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> LifecyclePolicy:
        """Stored settings over the defaults (unknown keys from older versions are ignored)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in (data or {}).items() if k in known}
        if "renewal_lead_days" in values:
            values["renewal_lead_days"] = tuple(int(d) for d in values["renewal_lead_days"])
        if values.get("key_features") is not None:
            values["key_features"] = tuple(values["key_features"])
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["renewal_lead_days"] = sorted(self.renewal_lead_days, reverse=True)
        data["key_features"] = list(self.key_features) if self.key_features is not None else None
        return data

    def key(self, features: list[Feature]) -> list[Feature]:
        """The key features: the configured ones, else every metered feature."""
        metered = [f for f in features if f.kind is FeatureKind.METERED and f.meter is not None]
        if self.key_features is None:
            return metered
        return [f for f in metered if f.key in self.key_features]
