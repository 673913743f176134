"""Kept check answers are the answers a fresh evaluation gives, at every moment and after
every change: across period ends, grant starts and expiries, trial ends, usage and seats,
and with a clock that goes back."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from tangible_entitlements.domain.entitlement import Grant
from tangible_entitlements.domain.model import (
    CatalogItem,
    CatalogStatus,
    Feature,
    FeatureKind,
    FeatureValue,
    License,
    LicenseStatus,
    Meter,
    ResetPeriod,
    TrialOverlay,
)
from tangible_entitlements.entrypoints.api.checks import encode, render
from tangible_entitlements.service_layer.answer_cache import AnswerCache, KeptAnswer
from tangible_entitlements.service_layer.live_view import LiveView

START = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)  # a view, not a wall-clock service: dates are data
GRANT_STARTS = START + timedelta(minutes=30)
GRANT_EXPIRES = START + timedelta(hours=3)
TRIAL_ENDS = START + timedelta(hours=4)
ACCOUNT = ("t", "a")
FEATURES = (None, "reports", "sso", "seats", "export")


def view() -> LiveView:
    v = LiveView()
    v.features["t"] = [
        Feature("reports", "Reports", FeatureKind.METERED, Meter("report.generated")),
        Feature("sso", "SSO", FeatureKind.BOOLEAN),
        Feature("seats", "Seats", FeatureKind.SEATS),
        Feature("export", "Export", FeatureKind.BOOLEAN),
    ]
    v.items[("t", "pro", 1)] = CatalogItem(
        "pro",
        1,
        "plan",
        "Pro",
        CatalogStatus.PUBLISHED,
        {"reports": FeatureValue(limit=10), "seats": FeatureValue()},
    )
    v.items[("t", "exporter", 1)] = CatalogItem(
        "exporter", 1, "addon", "Exporter", CatalogStatus.PUBLISHED, {"export": FeatureValue()}
    )
    trial = TrialOverlay("tr", "addon", "exporter", 1, TRIAL_ENDS)
    v.licenses[ACCOUNT] = License(
        "l", "t", "a", "pro", 1, LicenseStatus.ACTIVE, date(2026, 1, 1), date(2027, 1, 1), 5, trials=(trial,)
    )
    v.grants[ACCOUNT] = [Grant("g", "sso", "early_access", None, "reward:r", GRANT_STARTS, GRANT_EXPIRES)]
    return v


def fresh(v: LiveView, feature_key: str | None, now: datetime) -> tuple[bytes, str]:
    return encode(v.check("t", "a", at=now, feature_key=feature_key), "a", feature_key, now)


def test_kept_answers_equal_fresh_ones_across_every_moment_and_change() -> None:
    """A walk through five hours (crossing the month's end at 00:00, the grant's start and
    expiry, the trial's end), mostly forward, sometimes back, with usage and seats changing."""
    rng = random.Random(20)
    v = view()
    now = START
    usage = 0
    for _ in range(3_000):
        now += timedelta(seconds=rng.choice((1, 7, 60, 300, 900)) * (1 if rng.random() < 0.9 else -1))
        if rng.random() < 0.05:
            usage += 1
            period = datetime(now.year, now.month, 1, tzinfo=UTC)
            v.set_counter("t", "a", "reports", period, None, usage)
        if rng.random() < 0.02:
            v.set_seats("t", "a", "l", rng.randint(0, 6))
        feature_key = rng.choice(FEATURES)
        assert render(v, "t", "a", feature_key, now) == fresh(v, feature_key, now), (now, feature_key)


def test_an_answer_from_a_repeated_midnight_hour_does_not_outlive_it() -> None:
    """Havana's clocks go back at 01:00 to 00:00 on 1 November 2026: the day's period
    computed inside the repeated hour is not the one computed after it."""
    v = LiveView()
    v.features["t"] = [
        Feature("reports", "Reports", FeatureKind.METERED, Meter("r", reset_period=ResetPeriod.DAY))
    ]
    v.items[("t", "pro", 1)] = CatalogItem(
        "pro", 1, "plan", "Pro", CatalogStatus.PUBLISHED, {"reports": FeatureValue(limit=10)}
    )
    v.licenses[ACCOUNT] = License(
        "l",
        "t",
        "a",
        "pro",
        1,
        LicenseStatus.ACTIVE,
        date(2026, 1, 1),
        date(2027, 1, 1),
        5,
        timezone="America/Havana",
    )
    midnight = datetime(2026, 11, 1, 4, tzinfo=UTC)  # 00:00 CDT
    v.set_counter("t", "a", "reports", midnight, midnight + timedelta(hours=25), 10.0)
    render(v, "t", "a", "reports", midnight + timedelta(hours=1, minutes=30))  # 00:30 CST, repeated
    later = midnight + timedelta(hours=11)
    assert render(v, "t", "a", "reports", later) == fresh(v, "reports", later)


def test_the_grant_ends_at_its_expiry_without_any_event() -> None:
    v = view()
    before = render(v, "t", "a", "sso", GRANT_EXPIRES - timedelta(microseconds=1))
    assert b'"has_access":true' in before[0]
    after = render(v, "t", "a", "sso", GRANT_EXPIRES)
    assert b'"has_access":false' in after[0] and after[1] != before[1]


def test_a_clock_set_back_is_answered_anew() -> None:
    v = view()
    assert b'"has_access":true' in render(v, "t", "a", "sso", GRANT_STARTS + timedelta(seconds=1))[0]
    assert b'"has_access":false' in render(v, "t", "a", "sso", GRANT_STARTS - timedelta(seconds=1))[0]


def test_an_answer_is_kept_until_the_account_changes() -> None:
    v = view()
    render(v, "t", "a", "reports", START)
    assert v.answers.get(ACCOUNT, "reports", START + timedelta(seconds=1)) is not None
    v.set_counter("t", "a", "reports", datetime(2026, 11, 1, tzinfo=UTC), None, 3.0)
    assert v.answers.get(ACCOUNT, "reports", START + timedelta(seconds=1)) is None
    body, _ = render(v, "t", "a", "reports", START + timedelta(seconds=1))
    assert b'"usage":3.0' in body


def test_the_list_answer_says_the_moment_asked_even_when_kept() -> None:
    v = view()
    first, tag = render(v, "t", "a", None, START)
    later, later_tag = render(v, "t", "a", None, START + timedelta(seconds=5))
    assert b'"at":"2026-11-30T22:00:00Z"' in first and b'"at":"2026-11-30T22:00:05Z"' in later
    assert tag == later_tag


def test_a_full_cache_starts_again() -> None:
    cache = AnswerCache(max_answers=2)
    answer = KeptAnswer(b"{}", '"x"', START, None)
    cache.keep(("t", "a"), "f", answer)
    cache.keep(("t", "b"), "f", answer)
    assert len(cache) == 2
    cache.keep(("t", "c"), "f", answer)
    assert len(cache) == 1 and cache.get(("t", "a"), "f", START) is None
    assert cache.get(("t", "c"), "f", START) is answer
    cache.forget(("t", "c"))
    assert len(cache) == 0
