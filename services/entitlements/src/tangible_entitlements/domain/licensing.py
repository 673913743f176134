"""License lifecycle rules: renew, change plan, add-ons, suspend/reinstate, revoke/restore."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from tangible_entitlements.domain.errors import (
    InvalidLicenseChange,
    LicenseStateConflict,
    RestoreWindowClosed,
)
from tangible_entitlements.domain.model import CatalogItem, License, LicenseStatus, TrialOverlay

# statuses a license can be changed in (a suspended or revoked one must be brought back first)
_CHANGEABLE = (LicenseStatus.TRIALING, LicenseStatus.ACTIVE, LicenseStatus.GRACE, LicenseStatus.EXPIRED)


def snapshot(license: License, *, users: Sequence[str] = ()) -> dict[str, Any]:
    """The whole state of a license as JSON: what history records and what restore brings back."""
    return {
        "id": license.id,
        "tenant_id": license.tenant_id,
        "account_id": license.account_id,
        "plan_key": license.plan_key,
        "plan_version": license.plan_version,
        "addons": dict(license.addons),
        "status": license.status.value,
        "term_start": license.term_start.isoformat(),
        "term_end": license.term_end.isoformat(),
        "seats": license.seats,
        "timezone": license.timezone,
        "pending_plan_key": license.pending_plan_key,
        "pending_plan_version": license.pending_plan_version,
        "prior_state": license.prior_state,
        "status_changed_at": license.status_changed_at.isoformat() if license.status_changed_at else None,
        "assigned_users": sorted(users),
        "trials": [overlay_to_json(t) for t in license.trials],
    }


def overlay_to_json(overlay: TrialOverlay) -> dict[str, Any]:
    return {
        "id": overlay.id,
        "target_kind": overlay.target_kind,
        "target_key": overlay.target_key,
        "target_version": overlay.target_version,
        "ends_at": overlay.ends_at.isoformat(),
        "restore_plan_key": overlay.restore_plan_key,
        "restore_version": overlay.restore_version,
    }


def overlay_from_json(data: dict[str, Any]) -> TrialOverlay:
    return TrialOverlay(
        id=data["id"],
        target_kind=data["target_kind"],
        target_key=data["target_key"],
        target_version=int(data["target_version"]),
        ends_at=datetime.fromisoformat(data["ends_at"]),
        restore_plan_key=data.get("restore_plan_key"),
        restore_version=data.get("restore_version"),
    )


def from_snapshot(data: dict[str, Any]) -> License:
    changed = data.get("status_changed_at")
    return License(
        id=data["id"],
        tenant_id=data["tenant_id"],
        account_id=data["account_id"],
        plan_key=data["plan_key"],
        plan_version=int(data["plan_version"]),
        status=LicenseStatus(data["status"]),
        term_start=date.fromisoformat(data["term_start"]),
        term_end=date.fromisoformat(data["term_end"]),
        seats=int(data["seats"]),
        addons={k: int(v) for k, v in data["addons"].items()},
        timezone=data["timezone"],
        pending_plan_key=data.get("pending_plan_key"),
        pending_plan_version=data.get("pending_plan_version"),
        prior_state=data.get("prior_state"),
        status_changed_at=datetime.fromisoformat(changed) if changed else None,
        trials=tuple(overlay_from_json(t) for t in data.get("trials") or ()),
    )


def require_changeable(license: License) -> None:
    if license.status not in _CHANGEABLE:
        raise LicenseStateConflict(
            f"license is {license.status.value}; reinstate or restore it first",
            license_status=license.status.value,
        )


def renew(license: License, *, plan: CatalogItem, addons: dict[str, int], term_end: date | None) -> License:
    """Extend the term (by its own length unless `term_end` is given) and move to `plan`,
    the pending plan or the latest published version of the current one."""
    require_changeable(license)
    length = license.term_end - license.term_start
    new_end = term_end or license.term_end + length
    if new_end <= license.term_end:
        raise InvalidLicenseChange("a renewal must extend the term", term_end=license.term_end.isoformat())
    return replace(
        license,
        term_start=license.term_end,
        term_end=new_end,
        plan_key=plan.key,
        plan_version=plan.version,
        addons=addons,
        status=LicenseStatus.ACTIVE,
        pending_plan_key=None,
        pending_plan_version=None,
    )


def change_plan(license: License, plan: CatalogItem, *, effective: str) -> License:
    require_changeable(license)
    if (plan.key, plan.version) == (license.plan_key, license.plan_version):
        raise InvalidLicenseChange("the license is already on this plan version")
    if effective == "at_renewal":
        return replace(license, pending_plan_key=plan.key, pending_plan_version=plan.version)
    return replace(
        license,
        plan_key=plan.key,
        plan_version=plan.version,
        pending_plan_key=None,
        pending_plan_version=None,
    )


def add_addon(license: License, addon: CatalogItem) -> License:
    require_changeable(license)
    if license.addons.get(addon.key) == addon.version:
        raise LicenseStateConflict(f"add-on '{addon.key}' version {addon.version} is already on the license")
    return replace(license, addons={**license.addons, addon.key: addon.version})


def remove_addon(license: License, addon_key: str) -> License:
    require_changeable(license)
    if addon_key not in license.addons:
        raise LicenseStateConflict(f"add-on '{addon_key}' is not on the license")
    return replace(license, addons={k: v for k, v in license.addons.items() if k != addon_key})


def suspend(license: License, *, now: datetime, users: Sequence[str]) -> License:
    require_changeable(license)
    return replace(
        license,
        status=LicenseStatus.SUSPENDED,
        prior_state=snapshot(license, users=users),
        status_changed_at=now,
    )


def revoke(license: License, *, now: datetime, users: Sequence[str]) -> License:
    """Revoking takes every seat back; the prior state (seats included) is kept for restore."""
    if license.status is LicenseStatus.REVOKED:
        raise LicenseStateConflict("license is already revoked")
    return replace(
        license,
        status=LicenseStatus.REVOKED,
        prior_state=snapshot(license, users=users),
        status_changed_at=now,
    )


def bring_back(
    license: License, *, expected: LicenseStatus, now: datetime, window: timedelta
) -> tuple[License, list[str]]:
    """Reinstate a suspended license or restore a revoked one: exactly its prior state
    (and the users who held seats), if still within the window."""
    if license.status is not expected or license.prior_state is None:
        raise LicenseStateConflict(f"license is {license.status.value}, not {expected.value}")
    if license.status_changed_at is not None and now - license.status_changed_at > window:
        raise RestoreWindowClosed(
            f"the {window.days}-day window to undo this has closed",
            since=license.status_changed_at.isoformat(),
        )
    prior = dict(license.prior_state)
    users = list(prior.pop("assigned_users", []))
    return from_snapshot(prior), users
