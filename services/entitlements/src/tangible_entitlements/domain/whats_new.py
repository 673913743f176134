"""What changed between the plan version an account has and the latest published version
of that plan, in plain language from the catalog's benefit mapping: features added, limits
raised, benefits added. Renewal reminders list it ("new at renewal"), in the reader's
language ("en", "de"; feature names and outcomes are the catalog's, as the vendor wrote them)."""

from __future__ import annotations

from dataclasses import dataclass

from tangible_entitlements.domain.model import CatalogItem, Feature, FeatureValue


@dataclass(frozen=True)
class Change:
    kind: str  # feature_added | limit_raised | benefit_added
    feature_key: str
    text: str


LOCALES = ("en", "de")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "feature_added": "New in {plan}: {name}.",
        "benefit_added": "{name}: {outcome}.",
        "limit_raised": "{name}: limit raised from {before} to {after}.",
        "unlimited": "unlimited",
        "reward_benefit": "Earned through rewards: {name}.",
        "reward_benefit_value": "Earned through rewards: {name} ({value}).",
    },
    "de": {
        "feature_added": "Neu in {plan}: {name}.",
        "benefit_added": "{name}: {outcome}.",
        "limit_raised": "{name}: Limit erhöht von {before} auf {after}.",
        "unlimited": "unbegrenzt",
        "reward_benefit": "Durch Prämien erhalten: {name}.",
        "reward_benefit_value": "Durch Prämien erhalten: {name} ({value}).",
    },
}


def text(locale: str, key: str, **values: object) -> str:
    return TEXTS.get(locale, TEXTS["en"])[key].format(**values)


def _amount(value: float | None, locale: str = "en") -> str:
    if value is None:
        return text(locale, "unlimited")
    formatted = f"{int(value):,}" if float(value).is_integer() else f"{value:,}"
    # German groups thousands with a point and writes decimals with a comma
    return formatted.translate(str.maketrans(",.", ".,")) if locale == "de" else formatted


def _raised(before: FeatureValue, after: FeatureValue) -> bool:
    return before.limit is not None and (after.limit is None or after.limit > before.limit)


def reward_benefit(name: str, value: object, locale: str = "en") -> str:
    """A benefit granted through rewards during the term: "Earned through rewards: SSO." """
    if value in (None, True):
        return text(locale, "reward_benefit", name=name)
    return text(locale, "reward_benefit_value", name=name, value=value)


def plan_changes(
    current: CatalogItem, latest: CatalogItem, features: dict[str, Feature], locale: str = "en"
) -> list[Change]:
    if latest.version <= current.version:
        return []
    changes: list[Change] = []
    for key, after in sorted(latest.features.items()):
        feature = features.get(key)
        name = feature.name if feature else key
        before = current.features.get(key)
        if after.enabled and (before is None or not before.enabled):
            changes.append(
                Change("feature_added", key, text(locale, "feature_added", plan=latest.name, name=name))
            )
            if feature is not None and feature.outcome:
                outcome = text(locale, "benefit_added", name=name, outcome=feature.outcome)
                changes.append(Change("benefit_added", key, outcome))
        elif before is not None and after.enabled and _raised(before, after):
            before_amount, after_amount = _amount(before.limit, locale), _amount(after.limit, locale)
            raised = text(locale, "limit_raised", name=name, before=before_amount, after=after_amount)
            changes.append(Change("limit_raised", key, raised))
    return changes
