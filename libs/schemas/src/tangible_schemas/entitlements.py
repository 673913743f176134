"""`tangible.entitlements.v1`: licenses, seats, trials, grants, thresholds and signals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, JsonValue

from tangible_schemas.base import AccountEvent, EventData, WireModel

LicenseStatus = Literal["trialing", "active", "grace", "suspended", "expired", "revoked"]
GrantKind = Literal["early_access", "support_level", "feature_override"]


class LicenseEvent(AccountEvent):
    """Fields every license lifecycle event carries: ids and the values that changed."""

    license_id: str
    status: LicenseStatus
    plan_key: str
    plan_version: int
    actor: str = "system"
    reason: str | None = None


class LicenseCreated(LicenseEvent):
    event_type = "tangible.entitlements.v1.license_created"
    summary = "A license was created for an account."

    term_start: date
    term_end: date
    seats: int
    addons: list[str] = Field(default_factory=list)


class LicenseRenewed(LicenseEvent):
    event_type = "tangible.entitlements.v1.license_renewed"
    summary = "A license term was extended."

    term_start: date
    term_end: date
    previous_term_end: date | None = None


class LicensePlanChanged(LicenseEvent):
    event_type = "tangible.entitlements.v1.license_plan_changed"
    summary = "A license moved to another plan or plan version."

    previous_plan_key: str
    previous_plan_version: int
    effective: Literal["now", "at_renewal"]


class LicenseAddonChanged(LicenseEvent):
    event_type = "tangible.entitlements.v1.license_addons_changed"
    summary = "Add-ons were added to or removed from a license."

    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)


class LicenseStatusChanged(LicenseEvent):
    event_type = "tangible.entitlements.v1.license_status_changed"
    summary = "A license was suspended, reinstated, revoked, restored or expired."

    previous_status: LicenseStatus
    transition: Literal["suspended", "reinstated", "revoked", "restored", "expired", "graced"]


class SeatAssigned(AccountEvent):
    event_type = "tangible.entitlements.v1.seat_assigned"
    summary = "A user was given a seat."

    license_id: str
    user_id: str
    assigned: int
    purchased: int


class SeatUnassigned(AccountEvent):
    event_type = "tangible.entitlements.v1.seat_unassigned"
    summary = "A user's seat was taken back."

    license_id: str
    user_id: str
    assigned: int
    purchased: int


class TrialEvent(AccountEvent):
    trial_id: str
    license_id: str
    target_kind: Literal["plan", "addon"]
    target_key: str
    ends_at: datetime
    target_version: int | None = None
    actor: str = "system"
    reason: str | None = None


class TrialStarted(TrialEvent):
    event_type = "tangible.entitlements.v1.trial_started"
    summary = "A trial of a higher plan or an add-on started."


class TrialEndingSoon(TrialEvent):
    event_type = "tangible.entitlements.v1.trial_ending_soon_announced"
    summary = "A trial ends within the configured lead time."

    days_left: int


class TrialEnded(TrialEvent):
    event_type = "tangible.entitlements.v1.trial_ended"
    summary = "A trial expired or was cancelled; the license rolled back."

    outcome: Literal["expired", "cancelled"]


class TrialConverted(TrialEvent):
    event_type = "tangible.entitlements.v1.trial_converted"
    summary = "A trial was converted; the license keeps what was trialled."


class GrantApplied(AccountEvent):
    event_type = "tangible.entitlements.v1.grant_applied"
    summary = "A time-bound grant (reward, support upgrade, manual override) took effect."

    grant_id: str
    kind: GrantKind
    feature_key: str
    value: JsonValue = None
    source: str = Field(description="reward:<reward_id> or manual:<actor>")
    expires_at: datetime | None = None
    starts_at: datetime | None = None


class GrantExpired(AccountEvent):
    event_type = "tangible.entitlements.v1.grant_expired"
    summary = "A grant reached its expiry and no longer applies."

    grant_id: str
    kind: GrantKind
    feature_key: str


class ThresholdCrossed(AccountEvent):
    event_type = "tangible.entitlements.v1.threshold_crossed"
    summary = "Usage of a metered feature crossed a percentage of its limit in a period."

    feature_key: str
    threshold_percent: int
    usage: float
    limit: float
    period_start: datetime
    period_end: datetime | None = None


class ThresholdRecovered(AccountEvent):
    event_type = "tangible.entitlements.v1.threshold_recovered"
    summary = "Usage fell back under a crossed threshold (period reset or higher limit)."

    feature_key: str
    threshold_percent: int
    usage: float
    limit: float
    period_start: datetime
    period_end: datetime | None = None
    cause: Literal["period_reset", "limit_increased"] | None = None


class RenewalDue(AccountEvent):
    event_type = "tangible.entitlements.v1.renewal_due_announced"
    summary = "A license's renewal date is within one of the tenant's lead times."

    license_id: str
    renewal_date: date
    lead_days: int
    late: bool = Field(default=False, description="Emitted after its lead time (catch-up).")


class Evidence(WireModel):
    feature_key: str
    usage: float
    limit: float | None = None
    period_start: datetime | None = None
    detail: str | None = None
    period_end: datetime | None = None
    previous_usage: float | None = Field(default=None, description="The period before, for declines.")
    previous_period_start: datetime | None = None


class UpgradeSuggested(AccountEvent):
    event_type = "tangible.entitlements.v1.upgrade_suggested"
    summary = "Observed usage fits a higher plan or an add-on better."

    reason: Literal["near_limit", "seats_full", "soft_limit_exceeded"]
    suggestion_kind: Literal["plan", "addon"]
    suggestion_key: str
    evidence: list[Evidence]
    license_id: str | None = None
    suggestion_version: int | None = None
    suggestion_name: str | None = None
    current_plan_key: str | None = None


class RenewalAtRisk(AccountEvent):
    event_type = "tangible.entitlements.v1.renewal_risk_detected"
    summary = "Key-feature usage fell sharply shortly before renewal."

    license_id: str
    renewal_date: date
    decline_percent: float
    evidence: list[Evidence]
    period: Literal["week", "month"] | None = None


class UsageAggregated(AccountEvent):
    """Emitted per batch per counter so read replicas refresh their view without a query."""

    event_type = "tangible.entitlements.v1.usage_aggregated"
    summary = "A metered counter changed; carries the new total for the period."

    feature_key: str
    period_start: datetime
    usage: float
    config_value: JsonValue = None
    period_end: datetime | None = None


class CatalogChanged(EventData):
    """Tenant-wide: read replicas reload the tenant's catalog when it arrives."""

    event_type = "tangible.entitlements.v1.catalog_changed"
    summary = "A feature was created or edited, or a plan or add-on version was published or retired."

    item_kind: Literal["feature", "plan", "addon"]
    key: str
    version: int | None = None
    status: Literal["draft", "published", "retired"] | None = None

    @property
    def subject(self) -> str:
        return "catalog"
