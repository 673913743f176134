"""Assembles an account's impact report from the other services' answers (pure: the
adapters fetch, the renderers draw)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from tangible_notifications.domain.periods import Period
from tangible_notifications.domain.report import (
    Expiring,
    FeatureLine,
    ImpactReport,
    Milestone,
    RewardEarned,
    Seats,
    ValueLine,
)
from tangible_notifications.service_layer.ports import RawSources

EXPIRY_HORIZON = timedelta(days=90)  # credit expiring later than this is not news yet


def _when(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _decimal(text: Any) -> Decimal | None:
    try:
        return Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None


def _in(moment: datetime | None, period: Period) -> bool:
    return moment is not None and period.start <= moment.astimezone(UTC).date() <= period.end


def _totals(body: dict[str, Any] | None) -> dict[str, float] | None:
    if body is None:
        return None
    return {str(f["feature_key"]): float(f.get("total") or 0) for f in body.get("features", [])}


def _has_data(body: dict[str, Any] | None) -> bool:
    return body is not None and any(float(f.get("total") or 0) > 0 for f in body.get("features", []))


def _impact_values(body: dict[str, Any] | None) -> dict[str, float]:
    return {str(m["metric"]): float(m["value"]) for m in (body or {}).get("impact", []) if m.get("metric")}


def _series(feature: dict[str, Any]) -> tuple[tuple[date, float], ...]:
    points = []
    for point in feature.get("series", []):
        moment = _when(point.get("period_start"))
        if moment is not None:
            points.append((moment.date(), float(point.get("value") or 0)))
    return tuple(points)


def _features(raw: RawSources) -> tuple[FeatureLine, ...]:
    if raw.usage is None:
        return ()
    previous = _totals(raw.previous)
    # "the same period last year (when there is data)"
    earlier = _totals(raw.year_earlier) if _has_data(raw.year_earlier) else None
    previous_impact = {
        str(f["feature_key"]): float((f.get("impact") or {}).get("value") or 0)
        for f in (raw.previous or {}).get("features", [])
    }
    lines = []
    for f in raw.usage.get("features", []):
        key = str(f["feature_key"])
        impact = f.get("impact") or {}
        cohort = f.get("cohort") or {}
        lines.append(
            FeatureLine(
                key=key,
                name=str(f.get("name") or key),
                outcome=str(f.get("outcome") or ""),
                total=float(f.get("total") or 0),
                previous=previous.get(key, 0.0) if previous is not None else None,
                year_earlier=earlier.get(key, 0.0) if earlier is not None else None,
                series=_series(f),
                metric=impact.get("metric"),
                value=float(impact["value"]) if impact.get("value") is not None else None,
                value_previous=previous_impact.get(key) if raw.previous is not None else None,
                percentile=float(cohort["percentile"]) if cohort.get("percentile") is not None else None,
                plan_key=cohort.get("plan_key"),
                plan_name=cohort.get("plan_name"),
            )
        )
    return tuple(lines)


def _value_history(body: dict[str, Any] | None) -> tuple[tuple[date, float], ...]:
    months: dict[date, float] = defaultdict(float)
    for f in (body or {}).get("features", []):
        per_unit = float((f.get("impact") or {}).get("per_unit") or 0)
        for day, value in _series(f):
            months[day] += value * per_unit
    return tuple(sorted(months.items()))


def _unused(raw: RawSources, features: tuple[FeatureLine, ...]) -> tuple[str, ...]:
    used = {f.key for f in features if f.total > 0}
    names = {f.key: f.name for f in features}
    unused = [
        names.get(str(e["feature_key"]), str(e["feature_key"]))
        for e in (raw.entitlements or {}).get("entitlements", [])
        if e.get("kind") == "metered" and e.get("has_access") and str(e["feature_key"]) not in used
    ]
    return tuple(sorted(unused))


def _seats(body: dict[str, Any] | None) -> Seats | None:
    if body is None or not body.get("purchased"):
        return None
    return Seats(int(body["purchased"]), int(body.get("assigned") or 0), int(body.get("active") or 0))


def _expiring(body: dict[str, Any] | None, now: datetime) -> tuple[Expiring, ...]:
    soon = []
    for bucket in (body or {}).get("buckets", []):
        expires, amount = _when(bucket.get("expires_at")), _decimal(bucket.get("amount"))
        if expires is not None and amount and now <= expires <= now + EXPIRY_HORIZON:
            soon.append(Expiring(amount, expires))
    return tuple(sorted(soon, key=lambda e: e.expires_at))


def assemble(raw: RawSources, account_id: str, period: Period, now: datetime) -> ImpactReport:
    features = _features(raw)
    current_values, previous_values = _impact_values(raw.usage), _impact_values(raw.previous)
    value = tuple(
        ValueLine(metric, amount, previous_values.get(metric, 0.0) if raw.previous is not None else None)
        for metric, amount in current_values.items()
    )
    rewards = tuple(
        RewardEarned(str(r.get("name") or r.get("rule_key") or ""), _decimal(r.get("credits")), moment)
        for r in raw.rewards or []
        if (moment := _when(r.get("granted_at"))) is not None
        and r.get("status", "granted") == "granted"
        and _in(moment, period)
    )
    granted = sum(
        (
            _decimal(e.get("amount")) or Decimal(0)
            for e in raw.ledger or []
            if e.get("kind") == "grant" and _in(_when(e.get("created_at")), period)
        ),
        Decimal(0),
    )
    milestones = tuple(
        Milestone(
            str(m.get("name")),
            str(m.get("summary") or ""),
            float(m.get("percent") or 0),
            bool(m.get("reached")),
        )
        for m in (raw.progress or {}).get("milestones", [])
    )
    balance = _decimal(raw.balance.get("total")) if raw.balance is not None else None
    # a source that does not answer leaves its sections empty and is named in the report
    missing = [
        name
        for name, body in (
            ("usage", raw.usage),
            ("rewards", raw.rewards),
            ("ledger", raw.ledger),
            ("progress", raw.progress),
        )
        if body is None
    ]
    return ImpactReport(
        account_id=account_id,
        period=period,
        generated_at=now,
        features=features,
        value=value,
        value_history=_value_history(raw.history),
        seats=_seats(raw.seats),
        milestones=milestones,
        rewards=rewards,
        credits_granted=granted,
        balance=balance,
        expiring=_expiring(raw.balance, now),
        unused=_unused(raw, features),
        missing=tuple(missing),
    )
