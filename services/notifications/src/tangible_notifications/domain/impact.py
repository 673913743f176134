"""The impact note: an account's own figures in one plain sentence, or a fallback text.

"This term your team generated 1,240 reports, ~310 hours saved, and earned 2 rewards."

In the reader's language (`locale`: "en", "de"), numbers formatted for it by Babel; feature
names and outcomes are the catalog's, as the vendor wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal


@dataclass(frozen=True)
class FeatureUsage:
    key: str
    name: str
    total: float
    outcome: str | None = None
    # the account's rank among the accounts on its plan; entitlements withholds it (None)
    # when the cohort is under its minimum size k, so no message compares against a few
    percentile: float | None = None
    plan_key: str | None = None
    plan_name: str | None = None  # "Growth"; messages fall back to the key where it is unknown


@dataclass(frozen=True)
class UsageReport:
    features: tuple[FeatureUsage, ...] = ()
    metrics: tuple[tuple[str, float], ...] = ()  # (metric, value), e.g. ("hours saved", 310)
    benefits: tuple[str, ...] = ()  # names of the benefits in force


@dataclass(frozen=True)
class RewardsSummary:
    earned: int
    names: tuple[str, ...] = ()
    balance: Decimal | None = None


@dataclass(frozen=True)
class ImpactFacts:
    period: str  # "this term", "this quarter"
    usage: UsageReport | None = None
    rewards: RewardsSummary | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# the periods `ImpactFacts.period` names, in German (in the middle of a sentence)
_PERIODS_DE = {"this term": "in dieser Laufzeit", "this quarter": "in diesem Quartal"}


def _period_de(period: str) -> str:
    return _PERIODS_DE.get(period, period)


def fallback_note(period: str, locale: str = "en") -> str:
    if locale == "de":
        return (
            "Wir konnten Ihre Zahlen gerade nicht abrufen. Melden Sie sich an, um zu sehen, was Ihr "
            f"Team {_period_de(period)} erreicht hat: Nutzung, gesparte Zeit und erhaltene Prämien."
        )
    return (
        f"We could not gather your figures just now. Sign in to see what your team achieved {period}: "
        "usage, time saved and rewards earned."
    )


def number(value: float | Decimal, locale: str = "en") -> str:
    if locale != "en":
        return format_decimal(value, format="#,##0.#", locale=locale)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{float(value):,.1f}"


def _lower_first(name: str) -> str:
    # "Reports" → "reports", but "API calls" keeps its capitals
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def _join(parts: list[str], locale: str = "en") -> str:
    if len(parts) <= 1:
        return "".join(parts)
    if locale == "de":  # no serial comma in German
        return ", ".join(parts[:-1]) + f" und {parts[-1]}"
    if len(parts) == 2:
        return f"{parts[0]} and {parts[1]}"
    return ", ".join(parts[:-1]) + f", and {parts[-1]}"


def peer_sentence(usage: UsageReport, locale: str = "en") -> str | None:
    """ "Your team is more active than 80 % of teams on Growth (Reports)." for the feature it
    ranks best in, among those it used; None where no cohort is large enough."""
    ranked = [f for f in usage.features if f.percentile is not None and f.plan_key and f.total > 0]
    if not ranked:
        return None
    best = max(ranked, key=lambda f: f.percentile or 0.0)
    if not best.percentile or best.percentile < 50:
        return None  # social proof, not a reproach
    plan = best.plan_name or best.plan_key
    if locale == "de":
        return f"Ihr Team ist aktiver als {best.percentile:.0f} % der Teams mit {plan} ({best.name})."
    return f"Your team is more active than {best.percentile:.0f} % of teams on {plan} ({best.name})."


def _note_de(facts: ImpactFacts, usage: UsageReport) -> str:
    """ "In diesem Quartal hat Ihr Team erreicht: 1.240 Reports, ~310 hours saved und 2 Prämien." """
    period = _period_de(facts.period)
    parts = [f"{number(f.total, 'de')} {f.name}" for f in usage.features if f.total > 0]
    parts.extend(f"~{number(value, 'de')} {metric}" for metric, value in usage.metrics if value > 0)
    if facts.rewards is not None and facts.rewards.earned:
        parts.append(f"{facts.rewards.earned} {'Prämie' if facts.rewards.earned == 1 else 'Prämien'}")
    sentences = (
        [f"{period[:1].upper()}{period[1:]} hat Ihr Team erreicht: {_join(parts, 'de')}."] if parts else []
    )
    if facts.rewards is not None and facts.rewards.balance:
        sentences.append(f"Sie haben {number(facts.rewards.balance, 'de')} Punkte Guthaben.")
    if (peer := peer_sentence(usage, "de")) is not None:
        sentences.append(peer)
    if usage.benefits:
        sentences.append(f"Mit der Verlängerung behalten Sie {_join(list(usage.benefits), 'de')}.")
    return " ".join(sentences) or f"Melden Sie sich an, um zu sehen, was Ihr Team {period} erreicht hat."


def note(facts: ImpactFacts, locale: str = "en") -> str:
    if facts.usage is None:
        return fallback_note(facts.period, locale)
    if locale == "de":
        return _note_de(facts, facts.usage)
    usage = [f"{number(f.total)} {_lower_first(f.name)}" for f in facts.usage.features if f.total > 0]
    parts: list[str] = []
    if usage:
        parts.append("generated " + ", ".join(usage))
    parts.extend(f"~{number(value)} {metric}" for metric, value in facts.usage.metrics if value > 0)
    if facts.rewards is not None and facts.rewards.earned:
        plural = "s" if facts.rewards.earned != 1 else ""
        parts.append(f"earned {facts.rewards.earned} reward{plural}")
    sentences = [f"{facts.period[:1].upper()}{facts.period[1:]} your team {_join(parts)}."] if parts else []
    if facts.rewards is not None and facts.rewards.balance:
        sentences.append(f"You have {number(facts.rewards.balance)} credits to spend.")
    if (peer := peer_sentence(facts.usage)) is not None:
        sentences.append(peer)
    if facts.usage.benefits:
        sentences.append(f"Renewing keeps {_join(list(facts.usage.benefits))}.")
    return " ".join(sentences) or f"Sign in to see what your team achieved {facts.period}."


def impact_context(facts: ImpactFacts, locale: str = "en") -> dict[str, Any]:
    """What templates see as `impact`: the note and the figures behind it, and the locale
    the note is written in."""
    usage = facts.usage
    rewards = facts.rewards
    return {
        "available": usage is not None,
        "locale": locale,
        "note": note(facts, locale),
        "period": facts.period,
        "usage": [{"feature_key": f.key, "name": f.name, "total": f.total} for f in usage.features]
        if usage
        else [],
        "metrics": [{"metric": m, "value": v} for m, v in usage.metrics] if usage else [],
        "benefits": list(usage.benefits) if usage else [],
        "rewards_earned": rewards.earned if rewards else None,
        "reward_names": list(rewards.names) if rewards else [],
        "credits_balance": str(rewards.balance) if rewards and rewards.balance is not None else None,
        "peer": peer_sentence(usage, locale) if usage else None,
        **facts.extra,
    }
