"""License lifecycle rules: renewals, plan changes, add-ons, undoable suspend and revoke."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tangible_entitlements.domain import licensing
from tangible_entitlements.domain.errors import (
    InvalidLicenseChange,
    LicenseStateConflict,
    RestoreWindowClosed,
)
from tangible_entitlements.domain.model import CatalogItem, CatalogStatus, License, LicenseStatus

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
WINDOW = timedelta(days=30)


def plan(key: str = "starter", version: int = 1) -> CatalogItem:
    return CatalogItem(key, version, "plan", key.title(), CatalogStatus.PUBLISHED)


def license(**changes: object) -> License:
    base = License(
        "l1",
        "t1",
        "a1",
        "starter",
        1,
        LicenseStatus.ACTIVE,
        date(2026, 1, 1),
        date(2027, 1, 1),
        5,
        addons={"extra": 2},
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_renewal_extends_by_the_term_length_and_moves_to_the_given_plan_version() -> None:
    renewed = licensing.renew(license(), plan=plan(version=3), addons={"extra": 4}, term_end=None)
    assert (renewed.term_start, renewed.term_end) == (date(2027, 1, 1), date(2028, 1, 1))
    assert (renewed.plan_version, renewed.addons) == (3, {"extra": 4})
    with pytest.raises(InvalidLicenseChange):
        licensing.renew(license(), plan=plan(), addons={}, term_end=date(2026, 6, 1))


def test_plan_change_at_renewal_is_pending_until_then() -> None:
    pending = licensing.change_plan(license(), plan("pro", 2), effective="at_renewal")
    assert (pending.plan_key, pending.pending_plan_key, pending.pending_plan_version) == ("starter", "pro", 2)
    now = licensing.change_plan(pending, plan("pro", 2), effective="now")
    assert (now.plan_key, now.plan_version, now.pending_plan_key) == ("pro", 2, None)


def test_addons_are_added_once_and_removed_only_when_present() -> None:
    extra = CatalogItem("extra", 2, "addon", "Extra", CatalogStatus.PUBLISHED)
    with pytest.raises(LicenseStateConflict):
        licensing.add_addon(license(), extra)
    assert licensing.remove_addon(license(), "extra").addons == {}
    with pytest.raises(LicenseStateConflict):
        licensing.remove_addon(license(addons={}), "extra")


def test_revoke_then_restore_returns_exactly_the_prior_state_with_its_seat_holders() -> None:
    original = licensing.change_plan(license(), plan("pro", 2), effective="at_renewal")
    revoked = licensing.revoke(original, now=NOW, users=["u1", "u2"])
    assert revoked.status is LicenseStatus.REVOKED
    with pytest.raises(LicenseStateConflict):
        licensing.renew(revoked, plan=plan(), addons={}, term_end=None)
    restored, users = licensing.bring_back(
        revoked, expected=LicenseStatus.REVOKED, now=NOW + timedelta(days=29), window=WINDOW
    )
    assert restored == original and users == ["u1", "u2"]


def test_undo_after_the_window_is_refused() -> None:
    suspended = licensing.suspend(license(), now=NOW, users=[])
    with pytest.raises(RestoreWindowClosed):
        licensing.bring_back(
            suspended, expected=LicenseStatus.SUSPENDED, now=NOW + timedelta(days=31), window=WINDOW
        )
    with pytest.raises(LicenseStateConflict):  # a suspension is reinstated, not restored
        licensing.bring_back(suspended, expected=LicenseStatus.REVOKED, now=NOW, window=WINDOW)


def test_revoking_a_suspended_license_then_restoring_and_reinstating_unwinds_both() -> None:
    original = license()
    suspended = licensing.suspend(original, now=NOW, users=["u1"])
    revoked = licensing.revoke(suspended, now=NOW, users=["u1"])
    back, _ = licensing.bring_back(revoked, expected=LicenseStatus.REVOKED, now=NOW, window=WINDOW)
    assert back == suspended
    reinstated, users = licensing.bring_back(back, expected=LicenseStatus.SUSPENDED, now=NOW, window=WINDOW)
    assert reinstated == original and users == ["u1"]
