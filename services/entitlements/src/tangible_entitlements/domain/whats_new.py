"""What changed between the plan version an account has and the latest published version
of that plan, in plain language from the catalog's benefit mapping: features added, limits
raised, benefits added. Renewal reminders list it ("new at renewal")."""

from __future__ import annotations

from dataclasses import dataclass

from tangible_entitlements.domain.model import CatalogItem, Feature, FeatureValue


@dataclass(frozen=True)
class Change:
    kind: str  # feature_added | limit_raised | benefit_added
    feature_key: str
    text: str


def _amount(value: float | None) -> str:
    if value is None:
        return "unlimited"
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _raised(before: FeatureValue, after: FeatureValue) -> bool:
    return before.limit is not None and (after.limit is None or after.limit > before.limit)


def plan_changes(current: CatalogItem, latest: CatalogItem, features: dict[str, Feature]) -> list[Change]:
    if latest.version <= current.version:
        return []
    changes: list[Change] = []
    for key, after in sorted(latest.features.items()):
        feature = features.get(key)
        name = feature.name if feature else key
        before = current.features.get(key)
        if after.enabled and (before is None or not before.enabled):
            changes.append(Change("feature_added", key, f"New in {latest.name}: {name}."))
            if feature is not None and feature.outcome:
                changes.append(Change("benefit_added", key, f"{name}: {feature.outcome}."))
        elif before is not None and after.enabled and _raised(before, after):
            text = f"{name}: limit raised from {_amount(before.limit)} to {_amount(after.limit)}."
            changes.append(Change("limit_raised", key, text))
    return changes
