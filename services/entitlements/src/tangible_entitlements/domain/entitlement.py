"""The entitlement computation: plan + add-ons + grants + usage → value and its sources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tangible_entitlements.domain.model import CatalogItem, Feature, FeatureKind, FeatureValue, License
from tangible_entitlements.domain.trials import InForce, in_force

ItemKey = tuple[str, str, int]  # tenant, key, version


@dataclass(frozen=True)
class Grant:
    """A time-bound change on top of the plan (reward, support upgrade, manual override)."""

    id: str
    feature_key: str
    kind: str  # early_access | support_level | feature_override
    value: Any
    source: str
    starts_at: datetime
    expires_at: datetime | None

    def active_at(self, at: datetime) -> bool:
        return self.starts_at <= at and (self.expires_at is None or at < self.expires_at)

    def as_feature_value(self) -> FeatureValue:
        if self.kind == "support_level":
            return FeatureValue(config=self.value)
        if self.kind == "feature_override" and isinstance(self.value, dict):
            return FeatureValue(
                enabled=bool(self.value.get("enabled", True)),
                limit=self.value.get("limit"),
                hard=bool(self.value.get("hard", True)),
                config=self.value.get("config"),
            )
        return FeatureValue()  # early access: the feature, without a limit


@dataclass(frozen=True)
class Source:
    kind: str  # plan | addon | trial | grant
    key: str
    version: int | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Entitlement:
    feature_key: str
    kind: FeatureKind
    has_access: bool
    limit: float | None
    usage: float
    remaining: float | None
    overage: float
    hard: bool
    config: Any
    sources: tuple[Source, ...]


def evaluate(
    feature: Feature,
    *,
    license: License | None,
    plan: CatalogItem | None,
    addons: list[CatalogItem],
    grants: list[Grant],
    usage: float,
    at: datetime,
    trials: InForce | None = None,
) -> Entitlement:
    """Combine every source of a feature's value, in precedence order plan < add-on < grant;
    a plan or add-on that a running trial put in force is named as a `trial` source."""
    contributions: list[tuple[Source, FeatureValue]] = []
    if license is not None and license.status.grants_access:
        if plan is not None and feature.key in plan.features:
            value = plan.features[feature.key]
            if feature.kind is FeatureKind.SEATS:  # the license says how many seats were bought
                value = FeatureValue(enabled=value.enabled, limit=float(license.seats), config=value.config)
            plan_trial = trials.plan_trial if trials is not None else None
            source = (
                Source("trial", plan.key, plan.version, plan_trial.ends_at)
                if plan_trial is not None
                else Source("plan", plan.key, plan.version)
            )
            contributions.append((source, value))
        addon_trials = (trials.addon_trials if trials is not None else None) or {}
        for addon in addons:
            if feature.key in addon.features:
                trial = addon_trials.get(addon.key)
                source = (
                    Source("trial", addon.key, addon.version, trial.ends_at)
                    if trial is not None
                    else Source("addon", addon.key, addon.version)
                )
                contributions.append((source, addon.features[feature.key]))
        for grant in grants:
            if grant.feature_key == feature.key and grant.active_at(at):
                contributions.append(
                    (Source("grant", grant.source, None, grant.expires_at), grant.as_feature_value())
                )
    enabled = [(s, v) for s, v in contributions if v.enabled]
    config = next((v.config for _, v in reversed(enabled) if v.config is not None), None)
    sources = tuple(s for s, _ in enabled)
    if feature.kind in (FeatureKind.BOOLEAN, FeatureKind.CONFIG):
        return Entitlement(
            feature.key, feature.kind, bool(enabled), None, usage, None, 0.0, True, config, sources
        )
    limit = _combined_limit([v for _, v in enabled])
    hard = all(v.hard for _, v in enabled) if enabled else True
    remaining = None if limit is None else max(limit - usage, 0.0)
    overage = 0.0 if limit is None else max(usage - limit, 0.0)
    within = limit is None or usage < limit or not hard
    if feature.kind is FeatureKind.SEATS:
        within = limit is None or usage <= limit
    return Entitlement(
        feature.key,
        feature.kind,
        bool(enabled) and within,
        limit,
        usage,
        remaining,
        overage,
        hard,
        config,
        sources,
    )


def evaluate_license(
    feature: Feature,
    *,
    license: License | None,
    items: Mapping[ItemKey, CatalogItem],
    grants: list[Grant],
    usage: float,
    at: datetime,
) -> Entitlement:
    """`evaluate` with the plan and add-ons in force at `at` (running trials applied)."""
    if license is None:
        return evaluate(feature, license=None, plan=None, addons=[], grants=grants, usage=usage, at=at)
    tenant = license.tenant_id
    state = in_force(license, at)
    plan = items.get((tenant, state.plan_key, state.plan_version))
    addons = [item for k, v in state.addons.items() if (item := items.get((tenant, k, v))) is not None]
    return evaluate(
        feature, license=license, plan=plan, addons=addons, grants=grants, usage=usage, at=at, trials=state
    )


def _combined_limit(values: list[FeatureValue]) -> float | None:
    """Limits add up (an add-on adds capacity); any unlimited source makes it unlimited."""
    if not values or any(v.limit is None for v in values):
        return None
    return float(sum(v.limit for v in values if v.limit is not None))
