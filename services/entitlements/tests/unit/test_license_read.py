"""A license's answer maps the domain license by attribute: every field the API documents,
the status as its value, the trials in force without what they would restore."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tangible_entitlements.domain.model import License, LicenseStatus, TrialOverlay
from tangible_entitlements.entrypoints.api.licenses import license_read

MARCH = datetime(2026, 3, 1, tzinfo=UTC)


def test_every_documented_field_is_read_from_the_license() -> None:
    trial = TrialOverlay("tr-1", "plan", "pro", 3, MARCH, restore_plan_key="starter", restore_version=1)
    license = License(
        id="lic-1",
        tenant_id="t-1",
        account_id="acct-1",
        plan_key="starter",
        plan_version=1,
        status=LicenseStatus.GRACE,
        term_start=date(2026, 1, 1),
        term_end=date(2027, 1, 1),
        seats=3,
        addons={"storage": 2},
        timezone="Europe/Paris",
        pending_plan_key="team",
        pending_plan_version=4,
        prior_state={"status": "active"},
        status_changed_at=datetime(2026, 2, 1, tzinfo=UTC),
        trials=(trial,),
    )
    assert license_read(license).model_dump(mode="json") == {
        "id": "lic-1",
        "account_id": "acct-1",
        "plan_key": "starter",
        "plan_version": 1,
        "status": "grace",
        "term_start": "2026-01-01",
        "term_end": "2027-01-01",
        "seats": 3,
        "addons": {"storage": 2},
        "timezone": "Europe/Paris",
        "pending_plan_key": "team",
        "pending_plan_version": 4,
        "status_changed_at": "2026-02-01T00:00:00Z",
        "trials": [
            {
                "id": "tr-1",
                "target_kind": "plan",
                "target_key": "pro",
                "target_version": 3,
                "ends_at": "2026-03-01T00:00:00Z",
            }
        ],
    }


def test_a_plain_license_has_its_defaults() -> None:
    license = License(
        "lic-2", "t-1", "acct-2", "pro", 2, LicenseStatus.ACTIVE, date(2026, 1, 1), date(2027, 1, 1), 1
    )
    read = license_read(license).model_dump(mode="json")
    assert read["status"] == "active" and type(license_read(license).status) is str
    assert (read["addons"], read["timezone"], read["trials"], read["pending_plan_key"]) == (
        {},
        "UTC",
        [],
        None,
    )
