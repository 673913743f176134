"""Signals: the cheapest fitting plan or add-on, near-limit periods, declines versus noise."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tangible_entitlements.domain import signals
from tangible_entitlements.domain.errors import InvalidSettings
from tangible_entitlements.domain.model import (
    CatalogItem,
    CatalogStatus,
    Feature,
    FeatureKind,
    FeatureValue,
    License,
    LicenseStatus,
    Meter,
)
from tangible_entitlements.domain.policy import LifecyclePolicy

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
REPORTS = Feature("reports", "Reports", FeatureKind.METERED, Meter("report.generated"))
EXPORTS = Feature("exports", "Exports", FeatureKind.METERED, Meter("export.done"))
SEATS = Feature("seats", "Seats", FeatureKind.SEATS)
FEATURES = [REPORTS, EXPORTS, SEATS]


def item(key: str, kind: str, price: float, **features: FeatureValue) -> CatalogItem:
    return CatalogItem(key, 1, kind, key.title(), CatalogStatus.PUBLISHED, dict(features), price)


STARTER = item(
    "starter",
    "plan",
    10,
    reports=FeatureValue(limit=100),
    exports=FeatureValue(limit=5),
    seats=FeatureValue(),
)
GROWTH = item(
    "growth", "plan", 30, reports=FeatureValue(limit=300), exports=FeatureValue(limit=5), seats=FeatureValue()
)
SCALE = item(
    "scale",
    "plan",
    50,
    reports=FeatureValue(limit=1000),
    exports=FeatureValue(limit=50),
    seats=FeatureValue(),
)
# cheaper than growth, more reports, but no exports at all: it would take a feature away
REPORTS_ONLY = item("reports-only", "plan", 20, reports=FeatureValue(limit=5000))
PACK = item("reports-pack", "addon", 25, reports=FeatureValue(limit=50))
BIG_PACK = item("reports-pack-xl", "addon", 35, reports=FeatureValue(limit=500))
SEAT_PACK = item("seat-pack", "addon", 15, seats=FeatureValue(limit=5))
CATALOG = [STARTER, GROWTH, SCALE, REPORTS_ONLY, PACK, BIG_PACK, SEAT_PACK]


def license() -> License:
    return License("l1", "t", "a", "starter", 1, LicenseStatus.ACTIVE, date(2026, 1, 1), date(2027, 1, 1), 3)


def fit(needs: dict[str, float], usage: dict[str, float]) -> CatalogItem | None:
    items = {(i.key, i.version): i for i in CATALOG}
    return signals.cheapest_fit(
        license(),
        item=lambda k, v: items.get((k, v)),
        candidates=CATALOG,
        features=FEATURES,
        usage=usage,
        needs=needs,
        percent=80,
        at=NOW,
    )


def test_the_cheapest_option_that_gives_room_and_takes_nothing_away() -> None:
    # 90 reports: +50 (140 → 90 < 112) fits for 25 more; growth costs 20 more and fits too
    assert fit({"reports": 90}, {"reports": 90, "exports": 2}) == GROWTH
    # 200 reports: the pack is too small, growth (300 → 200 < 240) is cheapest
    assert fit({"reports": 200}, {"reports": 200, "exports": 2}) == GROWTH
    # 260: growth is too tight (260 ≥ 240); the XL pack (600, 45 in all) beats scale (50)
    assert fit({"reports": 260}, {"reports": 260, "exports": 2}) == BIG_PACK


def test_a_plan_that_drops_a_feature_in_use_is_never_suggested() -> None:
    suggestion = fit({"reports": 2000}, {"reports": 2000, "exports": 2})
    assert suggestion is None  # only reports-only has room for 2,000, and it has no exports


def test_full_seats_are_fitted_by_a_seat_addon() -> None:
    assert fit({"seats": 3}, {"reports": 10, "seats": 3}) == SEAT_PACK


def test_near_limit_needs_every_period_at_the_mark() -> None:
    def p(usage: float, limit: float | None = 100) -> signals.PeriodUsage:
        return signals.PeriodUsage(usage, limit, NOW, None)

    assert signals.near_limit([p(80), p(95)], 80)
    assert not signals.near_limit([p(79), p(95)], 80)
    assert not signals.near_limit([p(90, None), p(95)], 80)
    assert not signals.near_limit([], 80)


def test_declines_count_only_above_the_noise_floor() -> None:
    found = signals.declines(
        {"reports": (100, 60), "exports": (10, 2), "api": (50, 40), "new": (0, 5)}, percent=30, min_volume=20
    )
    assert [(d.feature_key, d.percent) for d in found] == [("reports", 40.0)]


def test_the_compared_periods_are_the_last_complete_one_and_the_one_before() -> None:
    assert signals.risk_periods(date(2026, 12, 1), "month") == (
        date(2026, 10, 1),
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    assert signals.risk_periods(date(2026, 11, 26), "week") == (
        date(2026, 11, 9),
        date(2026, 11, 16),
        date(2026, 11, 22),
    )


def test_policies_validate_and_round_trip() -> None:
    policy = LifecyclePolicy(renewal_lead_days=(30, 120), key_features=("reports",))
    again = LifecyclePolicy.from_json(policy.to_json())
    assert again == LifecyclePolicy(renewal_lead_days=(120, 30), key_features=("reports",))
    assert [f.key for f in again.key(FEATURES)] == ["reports"]
    assert [f.key for f in LifecyclePolicy().key(FEATURES)] == ["reports", "exports"]
    bad: dict[str, Any]
    for bad in ({"renewal_lead_days": []}, {"cohort_min_size": 4}, {"trial_eligibility": "always"}):
        with pytest.raises(InvalidSettings):
            LifecyclePolicy.from_json(bad)


def suggestion(hours: int, kind: str, key: str, license_id: str | None = "l1") -> signals.Suggestion:
    at = datetime(2026, 11, 5, tzinfo=UTC) + timedelta(hours=hours)
    return signals.Suggestion(at, license_id, kind, key, {"suggestion_key": key, "at": hours})


def test_open_suggestions_are_the_latest_per_item_since_the_last_plan_change_for_what_is_missing() -> None:
    made = [
        suggestion(1, "plan", "growth"),
        suggestion(3, "plan", "growth"),
        suggestion(2, "addon", "seat-pack"),
        suggestion(4, "addon", "boost", license_id="an-old-license"),
    ]
    found = signals.open_suggestions(made, {}, license())
    assert [(s.key, s.payload["at"]) for s in found] == [("growth", 3), ("seat-pack", 2)]

    changed = {"l1": datetime(2026, 11, 5, 2, tzinfo=UTC)}  # a plan change at 02:00
    assert [s.key for s in signals.open_suggestions(made, changed, license())] == ["growth"]
    has_it = replace(license(), addons={"seat-pack": 1}, pending_plan_key="growth")
    assert signals.open_suggestions(made, {}, has_it) == []
    assert signals.open_suggestions(made, {}, None) == []
