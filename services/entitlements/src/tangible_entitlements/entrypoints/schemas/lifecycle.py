"""Trial, lifecycle settings and history DTOs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from tangible_entitlements.entrypoints.schemas.common import Reason, Strict
from tangible_runtime.numbers import INT32_MAX, INTEGRAL


class TrialCreate(Reason):
    target_kind: Literal["plan", "addon"]
    target_key: str = Field(min_length=1, max_length=128)
    target_version: Annotated[StrictInt, Field(ge=1, le=INT32_MAX), INTEGRAL] | None = Field(
        default=None, description="Default: the latest published."
    )
    days: Annotated[StrictInt, Field(ge=1, le=365), INTEGRAL] = Field(
        description="How long the trial runs (the tenant's maximum applies)."
    )


class TrialRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    account_id: str
    license_id: str
    target_kind: Literal["plan", "addon"]
    target_key: str
    target_version: int
    features: list[str] = Field(description="The feature set the trial changes.")
    started_at: datetime
    ends_at: datetime
    status: Literal["active", "expired", "cancelled", "converted"]
    ended_at: datetime | None = None
    actor: str
    reason: str | None = None


class TrialInForce(BaseModel):
    id: str
    target_kind: str
    target_key: str
    target_version: int
    ends_at: datetime


class LifecycleSettings(Strict):
    """A tenant's lifecycle policy; every field has a default. The bounds are the policy's own
    (`domain.policy.LifecyclePolicy` checks them too), stated here so that clients see them."""

    renewal_lead_days: list[Annotated[StrictInt, Field(ge=1, le=730), INTEGRAL]] = Field(
        default=[90, 60, 30, 7],
        min_length=1,
        max_length=20,
        json_schema_extra={"uniqueItems": True},
        description="Days before the renewal date, each once.",
    )
    trial_eligibility: Literal["once_per_account", "once_per_target", "unlimited"] = "once_per_target"
    trial_max_days: Annotated[StrictInt, Field(ge=1, le=365), INTEGRAL] = Field(default=90)
    trial_ending_soon_days: Annotated[StrictInt, Field(ge=0, le=90), INTEGRAL] = Field(
        default=3, description="Lead of trial_ending_soon_announced; 0: none."
    )
    upgrade_near_limit_percent: StrictFloat = Field(default=80.0, gt=0, le=100)
    upgrade_consecutive_periods: Annotated[StrictInt, Field(ge=1, le=12), INTEGRAL] = Field(default=2)
    risk_decline_percent: StrictFloat = Field(default=30.0, gt=0, le=100)
    risk_window_days: Annotated[StrictInt, Field(ge=1, le=730), INTEGRAL] = Field(
        default=90, description="At-risk signals only this close to renewal."
    )
    risk_min_volume: StrictFloat = Field(
        default=20.0,
        ge=0,
        description="Noise rule: a feature used less than this in the earlier period never signals.",
    )
    risk_period: Literal["week", "month"] = "month"
    key_features: list[str] | None = Field(default=None, description="Default: every metered feature.")
    cohort_min_size: Annotated[StrictInt, Field(ge=5, le=INT32_MAX), INTEGRAL] = Field(
        default=5, description="Percentiles are withheld in smaller cohorts."
    )


class HistoryRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int = Field(description="Position in the account's chain, from 1.")
    id: int
    account_id: str
    license_id: str | None
    action: str
    actor: str
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime
    prev_hash: str
    hash: str


class VerifyRead(BaseModel):
    intact: bool
    checked: int = Field(description="Records checked.")
    first_altered_seq: int | None = Field(
        default=None, description="The first record that is not as written."
    )
    problem: str | None = None


class SuggestionEvidence(BaseModel):
    feature_key: str
    usage: float
    limit: float | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    detail: str | None = Field(default=None, examples=["over the soft limit by 2"])


class UpgradeSuggestionRead(BaseModel):
    suggested_at: datetime
    reason: Literal["near_limit", "seats_full", "soft_limit_exceeded"]
    suggestion_kind: Literal["plan", "addon"]
    suggestion_key: str
    suggestion_name: str | None = None
    suggestion_version: int | None = None
    license_id: str | None = None
    current_plan_key: str | None = None
    evidence: list[SuggestionEvidence]


class UpgradeSuggestionList(BaseModel):
    account_id: str
    suggestions: list[UpgradeSuggestionRead] = Field(description="Open ones, newest first.")
