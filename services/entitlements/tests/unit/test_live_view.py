"""The in-memory view answers from what events put into it; periods roll over by the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tangible_entitlements.domain.entitlement import Grant
from tangible_entitlements.domain.errors import FeatureNotFound, LicenseNotFound
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
from tangible_entitlements.service_layer.live_view import LiveView

NOVEMBER = datetime(2026, 11, 1, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 1, tzinfo=UTC)


def view() -> LiveView:
    v = LiveView()
    v.features["t"] = [
        Feature("reports", "Reports", FeatureKind.METERED, Meter("report.generated")),
        Feature("sso", "SSO", FeatureKind.BOOLEAN),
    ]
    v.items[("t", "pro", 1)] = CatalogItem(
        "pro", 1, "plan", "Pro", CatalogStatus.PUBLISHED, {"reports": FeatureValue(limit=10)}
    )
    v.licenses[("t", "a")] = License(
        "l", "t", "a", "pro", 1, LicenseStatus.ACTIVE, date(2026, 1, 1), date(2027, 1, 1), 5
    )
    return v


def test_usage_comes_from_the_counter_of_the_period_in_force() -> None:
    v = view()
    v.set_counter("t", "a", "reports", NOVEMBER, DECEMBER, 7)
    [november] = v.check("t", "a", at=NOVEMBER + timedelta(days=3), feature_key="reports")
    assert (november.entitlement.usage, november.entitlement.remaining, november.period_end) == (
        7,
        3,
        DECEMBER,
    )
    [december] = v.check("t", "a", at=DECEMBER + timedelta(hours=1), feature_key="reports")
    assert december.entitlement.usage == 0 and december.period_start == DECEMBER


def test_a_grant_applies_between_its_start_and_its_expiry() -> None:
    v = view()
    v.grants[("t", "a")] = [Grant("g", "sso", "early_access", None, "reward:r", NOVEMBER, DECEMBER)]
    assert v.check("t", "a", at=NOVEMBER, feature_key="sso")[0].entitlement.has_access
    assert not v.check("t", "a", at=DECEMBER, feature_key="sso")[0].entitlement.has_access


def test_unknown_accounts_and_features_are_refused() -> None:
    v = view()
    with pytest.raises(LicenseNotFound):
        v.check("t", "nobody", at=NOVEMBER)
    with pytest.raises(FeatureNotFound):
        v.check("t", "a", at=NOVEMBER, feature_key="nope")
    assert [r.entitlement.feature_key for r in v.check("t", "a", at=NOVEMBER)] == ["reports", "sso"]


def test_pruning_forgets_periods_long_over() -> None:
    v = view()
    v.set_counter("t", "a", "reports", NOVEMBER, DECEMBER, 7)
    assert v.prune(DECEMBER + timedelta(days=1)) == 0  # kept a little while for late reads
    assert v.prune(DECEMBER + timedelta(days=3)) == 1
    assert v.check("t", "a", at=NOVEMBER, feature_key="reports")[0].entitlement.usage == 0
