"""The pure entitlement computation: plan + add-ons + grants + usage → value and sources."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tangible_entitlements.domain.entitlement import Grant, Source, evaluate
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

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
REPORTS = Feature("reports", "Reports", FeatureKind.METERED, Meter("report.generated"))
SSO = Feature("sso", "Single sign-on", FeatureKind.BOOLEAN)
SUPPORT = Feature("support", "Support level", FeatureKind.CONFIG)


def plan(**features: FeatureValue) -> CatalogItem:
    return CatalogItem("starter", 1, "plan", "Starter", CatalogStatus.PUBLISHED, dict(features))


def addon(**features: FeatureValue) -> CatalogItem:
    return CatalogItem("extra", 2, "addon", "Extra", CatalogStatus.PUBLISHED, dict(features))


def license(status: LicenseStatus = LicenseStatus.ACTIVE) -> License:
    return License("l1", "t1", "a1", "starter", 1, status, date(2026, 1, 1), date(2027, 1, 1), 5)


def grant(feature: str, kind: str, value: object = None, expires: datetime | None = None) -> Grant:
    return Grant("g1", feature, kind, value, "reward:r1", NOW - timedelta(days=1), expires)


def test_hard_limit_denies_at_the_limit_and_reports_remaining() -> None:
    under = evaluate(
        REPORTS,
        license=license(),
        plan=plan(reports=FeatureValue(limit=10)),
        addons=[],
        grants=[],
        usage=9,
        at=NOW,
    )
    assert (under.has_access, under.remaining, under.overage) == (True, 1, 0)
    at_limit = evaluate(
        REPORTS,
        license=license(),
        plan=plan(reports=FeatureValue(limit=10)),
        addons=[],
        grants=[],
        usage=10,
        at=NOW,
    )
    assert (at_limit.has_access, at_limit.remaining) == (False, 0)


def test_soft_limit_keeps_access_and_tracks_overage() -> None:
    result = evaluate(
        REPORTS,
        license=license(),
        plan=plan(reports=FeatureValue(limit=10, hard=False)),
        addons=[],
        grants=[],
        usage=13,
        at=NOW,
    )
    assert (result.has_access, result.overage, result.remaining, result.hard) == (True, 3, 0, False)


def test_addon_adds_capacity_and_both_sources_are_named() -> None:
    result = evaluate(
        REPORTS,
        license=license(),
        plan=plan(reports=FeatureValue(limit=10)),
        addons=[addon(reports=FeatureValue(limit=5))],
        grants=[],
        usage=12,
        at=NOW,
    )
    assert result.limit == 15 and result.has_access
    assert result.sources == (Source("plan", "starter", 1), Source("addon", "extra", 2))


def test_early_access_grant_enables_a_feature_until_it_expires() -> None:
    expires = NOW + timedelta(days=30)
    active = evaluate(
        SSO,
        license=license(),
        plan=plan(),
        addons=[],
        grants=[grant("sso", "early_access", expires=expires)],
        usage=0,
        at=NOW,
    )
    assert active.has_access and active.sources == (Source("grant", "reward:r1", None, expires),)
    expired = evaluate(
        SSO,
        license=license(),
        plan=plan(),
        addons=[],
        grants=[grant("sso", "early_access", expires=expires)],
        usage=0,
        at=expires,
    )
    assert not expired.has_access and expired.sources == ()


def test_support_level_grant_overrides_the_plan_config() -> None:
    result = evaluate(
        SUPPORT,
        license=license(),
        plan=plan(support=FeatureValue(config="standard")),
        addons=[],
        grants=[grant("support", "support_level", "premium")],
        usage=0,
        at=NOW,
    )
    assert result.config == "premium"


def test_a_suspended_license_grants_nothing() -> None:
    result = evaluate(
        SSO,
        license=license(LicenseStatus.SUSPENDED),
        plan=plan(sso=FeatureValue()),
        addons=[],
        grants=[grant("sso", "early_access")],
        usage=0,
        at=NOW,
    )
    assert not result.has_access and result.sources == ()


def test_unlimited_source_makes_the_feature_unlimited() -> None:
    result = evaluate(
        REPORTS,
        license=license(),
        plan=plan(reports=FeatureValue(limit=10)),
        addons=[],
        grants=[grant("reports", "early_access")],
        usage=1000,
        at=NOW,
    )
    assert result.limit is None and result.has_access and result.remaining is None


def test_seats_come_from_the_license_and_add_ons_add_more() -> None:
    seats = Feature("seats", "Seats", FeatureKind.SEATS)
    full = evaluate(
        seats,
        license=license(),  # 5 seats bought
        plan=plan(seats=FeatureValue(limit=1)),  # the plan's own number does not count
        addons=[addon(seats=FeatureValue(limit=3))],
        grants=[],
        usage=8,
        at=NOW,
    )
    assert (full.limit, full.remaining, full.has_access) == (8, 0, True)
    over = evaluate(
        seats, license=license(), plan=plan(seats=FeatureValue()), addons=[], grants=[], usage=6, at=NOW
    )
    assert not over.has_access


def test_a_grant_that_has_not_started_does_not_apply() -> None:
    later = Grant("g2", "sso", "early_access", None, "manual:x", NOW + timedelta(hours=1), None)
    result = evaluate(SSO, license=license(), plan=plan(), addons=[], grants=[later], usage=0, at=NOW)
    assert not result.has_access
    started = evaluate(
        SSO, license=license(), plan=plan(), addons=[], grants=[later], usage=0, at=NOW + timedelta(hours=1)
    )
    assert started.has_access


def test_a_feature_override_grant_can_raise_a_hard_limit() -> None:
    override = grant("reports", "feature_override", {"limit": 90, "hard": True})
    result = evaluate(
        REPORTS,
        license=license(),
        plan=plan(reports=FeatureValue(limit=10)),
        addons=[],
        grants=[override],
        usage=50,
        at=NOW,
    )
    assert (result.limit, result.has_access, result.overage) == (100, True, 0)
