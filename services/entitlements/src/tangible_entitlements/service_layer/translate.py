"""Domain facts → wire events (libs/schemas). Payloads carry ids and changed values."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from tangible_entitlements.domain.commands import GrantBenefit
from tangible_entitlements.domain.metering import CounterKey
from tangible_entitlements.domain.model import CatalogItem, License, LicenseStatus, Trial
from tangible_entitlements.service_layer.reads import GrantRecord, RenewalNotice
from tangible_schemas.entitlements import (
    CatalogChanged,
    Evidence,
    GrantApplied,
    GrantExpired,
    LicenseAddonChanged,
    LicenseCreated,
    LicensePlanChanged,
    LicenseRenewed,
    LicenseStatusChanged,
    RenewalAtRisk,
    RenewalDue,
    SeatAssigned,
    SeatUnassigned,
    ThresholdCrossed,
    ThresholdRecovered,
    TrialConverted,
    TrialEnded,
    TrialEndingSoon,
    TrialEvent,
    TrialStarted,
    UpgradeSuggested,
    UsageAggregated,
)


def _license_fields(license: License, actor: str, reason: str | None) -> dict[str, Any]:
    return {
        "tenant_id": license.tenant_id,
        "account_id": license.account_id,
        "license_id": license.id,
        "status": license.status.value,
        "plan_key": license.plan_key,
        "plan_version": license.plan_version,
        "actor": actor,
        "reason": reason,
    }


def license_created(license: License, actor: str, reason: str | None) -> LicenseCreated:
    return LicenseCreated(
        **_license_fields(license, actor, reason),
        term_start=license.term_start,
        term_end=license.term_end,
        seats=license.seats,
        addons=sorted(license.addons),
    )


def license_renewed(license: License, previous_end: date, actor: str, reason: str | None) -> LicenseRenewed:
    return LicenseRenewed(
        **_license_fields(license, actor, reason),
        term_start=license.term_start,
        term_end=license.term_end,
        previous_term_end=previous_end,
    )


def plan_changed(
    before: License, after: License, effective: Literal["now", "at_renewal"], actor: str, reason: str | None
) -> LicensePlanChanged:
    fields = _license_fields(after, actor, reason)
    if effective == "at_renewal":  # the event names the plan the license will move to
        assert after.pending_plan_key is not None and after.pending_plan_version is not None
        fields.update(plan_key=after.pending_plan_key, plan_version=after.pending_plan_version)
    return LicensePlanChanged(
        **fields,
        previous_plan_key=before.plan_key,
        previous_plan_version=before.plan_version,
        effective=effective,
    )


def addons_changed(
    license: License, *, added: list[str], removed: list[str], actor: str, reason: str | None
) -> LicenseAddonChanged:
    return LicenseAddonChanged(**_license_fields(license, actor, reason), added=added, removed=removed)


def status_changed(
    license: License,
    previous: LicenseStatus,
    transition: Literal["suspended", "reinstated", "revoked", "restored", "expired", "graced"],
    actor: str,
    reason: str | None,
) -> LicenseStatusChanged:
    return LicenseStatusChanged(
        **_license_fields(license, actor, reason), previous_status=previous.value, transition=transition
    )


def seat_changed(
    license: License, user_id: str, assigned: int, *, added: bool
) -> SeatAssigned | SeatUnassigned:
    cls = SeatAssigned if added else SeatUnassigned
    return cls(
        tenant_id=license.tenant_id,
        account_id=license.account_id,
        license_id=license.id,
        user_id=user_id,
        assigned=assigned,
        purchased=license.seats,
    )


def catalog_changed(tenant_id: str, item: CatalogItem) -> CatalogChanged:
    kind: Literal["plan", "addon"] = "addon" if item.kind == "addon" else "plan"
    return CatalogChanged(
        tenant_id=tenant_id, item_kind=kind, key=item.key, version=item.version, status=item.status.value
    )


def feature_changed(tenant_id: str, key: str) -> CatalogChanged:
    return CatalogChanged(tenant_id=tenant_id, item_kind="feature", key=key)


def grant_applied(grant: GrantBenefit) -> GrantApplied:
    return GrantApplied(
        tenant_id=grant.tenant_id,
        account_id=grant.account_id,
        grant_id=grant.grant_id,
        kind=grant.kind,
        feature_key=grant.feature_key,
        value=grant.value,
        source=grant.source,
        expires_at=grant.expires_at,
        starts_at=grant.starts_at,
    )


def grant_expired(grant: GrantRecord) -> GrantExpired:
    return GrantExpired(
        tenant_id=grant.tenant_id,
        account_id=grant.account_id,
        grant_id=grant.id,
        kind=grant.kind,
        feature_key=grant.feature_key,
    )


def threshold_crossed(
    key: CounterKey, percent: int, usage: float, limit: float, period_end: datetime | None
) -> ThresholdCrossed:
    return ThresholdCrossed(
        tenant_id=key.tenant_id,
        account_id=key.account_id,
        feature_key=key.feature_key,
        threshold_percent=percent,
        usage=usage,
        limit=limit,
        period_start=key.period_start,
        period_end=period_end,
    )


def threshold_recovered(
    key: CounterKey,
    percent: int,
    usage: float,
    limit: float,
    *,
    period_start: datetime,
    period_end: datetime | None,
    cause: Literal["period_reset", "limit_increased"],
) -> ThresholdRecovered:
    return ThresholdRecovered(
        tenant_id=key.tenant_id,
        account_id=key.account_id,
        feature_key=key.feature_key,
        threshold_percent=percent,
        usage=usage,
        limit=limit,
        period_start=period_start,
        period_end=period_end,
        cause=cause,
    )


def usage_aggregated(key: CounterKey, usage: float, period_end: datetime | None) -> UsageAggregated:
    return UsageAggregated(
        tenant_id=key.tenant_id,
        account_id=key.account_id,
        feature_key=key.feature_key,
        period_start=key.period_start,
        period_end=period_end,
        usage=usage,
    )


def _trial_fields(trial: Trial, actor: str, reason: str | None) -> dict[str, Any]:
    return {
        "tenant_id": trial.tenant_id,
        "account_id": trial.account_id,
        "trial_id": trial.id,
        "license_id": trial.license_id,
        "target_kind": trial.target_kind,
        "target_key": trial.target_key,
        "target_version": trial.target_version,
        "ends_at": trial.ends_at,
        "actor": actor,
        "reason": reason,
    }


def trial_started(trial: Trial) -> TrialStarted:
    return TrialStarted(**_trial_fields(trial, trial.actor, trial.reason))


def trial_ending_soon(trial: Trial, days_left: int) -> TrialEndingSoon:
    return TrialEndingSoon(**_trial_fields(trial, "system", None), days_left=days_left)


def trial_finished(
    trial: Trial,
    outcome: Literal["expired", "cancelled", "converted"],
    actor: str,
    reason: str | None,
) -> TrialEvent:
    fields = _trial_fields(trial, actor, reason)
    if outcome == "converted":
        return TrialConverted(**fields)
    return TrialEnded(**fields, outcome=outcome)


def renewal_due(notice: RenewalNotice) -> RenewalDue:
    return RenewalDue(
        tenant_id=notice.tenant_id,
        account_id=notice.account_id,
        license_id=notice.license_id,
        renewal_date=notice.term_end,
        lead_days=notice.lead_days,
        late=notice.late,
    )


def upgrade_suggested(
    license: License,
    item: CatalogItem,
    reason: Literal["near_limit", "seats_full", "soft_limit_exceeded"],
    evidence: list[Evidence],
) -> UpgradeSuggested:
    kind: Literal["plan", "addon"] = "addon" if item.kind == "addon" else "plan"
    return UpgradeSuggested(
        tenant_id=license.tenant_id,
        account_id=license.account_id,
        license_id=license.id,
        reason=reason,
        suggestion_kind=kind,
        suggestion_key=item.key,
        suggestion_version=item.version,
        suggestion_name=item.name,
        current_plan_key=license.plan_key,
        evidence=evidence,
    )


def renewal_at_risk(
    license: License, decline_percent: float, evidence: list[Evidence], period: Literal["week", "month"]
) -> RenewalAtRisk:
    return RenewalAtRisk(
        tenant_id=license.tenant_id,
        account_id=license.account_id,
        license_id=license.id,
        renewal_date=license.term_end,
        decline_percent=decline_percent,
        evidence=evidence,
        period=period,
    )
