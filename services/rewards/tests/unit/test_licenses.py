"""Renewal anniversaries of continuous license, and time-to-value after license start."""

from __future__ import annotations

from datetime import date

from tangible_rewards.domain.licenses import (
    LicenseFact,
    LicenseState,
    anniversary_qualifying,
    fold_licenses,
    time_to_value,
)
from tangible_rewards.domain.model import AnniversaryParams, Repeat, TimeToValueParams
from tangible_rewards.domain.periods import completed_years

START = date(2025, 3, 10)


def fact(
    kind: str, status: str = "active", start: date | None = START, end: date | None = None
) -> LicenseFact:
    return LicenseFact(
        "t1", "a1", "l1", kind, status, start, end or (start.replace(year=start.year + 1) if start else None)
    )


def license_after(*facts: LicenseFact) -> LicenseState:
    return fold_licenses({}, facts)[("t1", "l1")]


def test_first_anniversary_is_reached_on_the_day() -> None:
    state = license_after(fact("created"))
    first = AnniversaryParams(years=1)
    assert anniversary_qualifying(state, first, Repeat.ONCE, date(2026, 3, 9)) is None
    assert anniversary_qualifying(state, first, Repeat.ONCE, date(2026, 3, 10)) == "year-1"


def test_every_anniversary_after_the_first_rewarded_one_when_repeating() -> None:
    state = license_after(fact("created"), fact("renewed", start=date(2026, 3, 10)))
    assert (
        anniversary_qualifying(state, AnniversaryParams(1), Repeat.PER_PERIOD, date(2027, 3, 10)) == "year-2"
    )
    assert anniversary_qualifying(state, AnniversaryParams(3), Repeat.PER_PERIOD, date(2027, 3, 10)) is None


def test_suspension_keeps_continuity_but_grants_nothing_while_suspended() -> None:
    suspended = license_after(fact("created"), fact("status_changed", "suspended", None))
    assert anniversary_qualifying(suspended, AnniversaryParams(1), Repeat.ONCE, date(2026, 4, 1)) is None
    reinstated = license_after(
        fact("created"), fact("status_changed", "suspended", None), fact("status_changed", "active", None)
    )
    assert reinstated.continuous_since == START
    assert anniversary_qualifying(reinstated, AnniversaryParams(1), Repeat.ONCE, date(2026, 4, 1)) == "year-1"


def test_a_renewal_after_a_lapse_starts_continuity_again() -> None:
    lapsed_then_renewed = license_after(
        fact("created"),
        fact("status_changed", "expired", None),
        fact("renewed", start=date(2026, 6, 1)),
    )
    assert lapsed_then_renewed.continuous_since == date(2026, 6, 1)
    assert (
        anniversary_qualifying(lapsed_then_renewed, AnniversaryParams(1), Repeat.ONCE, date(2027, 5, 31))
        is None
    )


def test_a_restore_after_revocation_resumes_the_original_continuity() -> None:
    restored = license_after(
        fact("created"), fact("status_changed", "revoked", None), fact("status_changed", "active", None)
    )
    assert restored.continuous_since == START


def test_changes_to_unknown_licenses_are_ignored() -> None:
    assert fold_licenses({}, [fact("renewed")]) == {}


def test_leap_day_anniversaries_fall_on_the_first_of_march() -> None:
    assert completed_years(date(2024, 2, 29), date(2025, 2, 28)) == 0
    assert completed_years(date(2024, 2, 29), date(2025, 3, 1)) == 1


def test_time_to_value_counts_only_usage_within_the_window() -> None:
    state = license_after(fact("created"))
    params = TimeToValueParams("report.generated", days=14, target=3)
    daily = {date(2025, 3, 9): 5.0, date(2025, 3, 10): 1.0, date(2025, 3, 23): 1.0, date(2025, 3, 24): 9.0}
    ttv = time_to_value(state, params, daily)
    assert ttv.current == 2.0 and ttv.deadline == date(2025, 3, 24)
