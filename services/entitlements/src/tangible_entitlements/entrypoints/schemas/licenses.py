"""License, history, seat and grant DTOs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, StrictInt, model_validator

from tangible_entitlements.entrypoints.schemas.common import Reason, Strict
from tangible_entitlements.entrypoints.schemas.lifecycle import TrialInForce
from tangible_runtime.numbers import INT32_MAX, INTEGRAL

IMPORT_LIMIT = 1000  # licenses per import: one transaction, a few seconds at most


class LicenseCreate(Strict):
    account_id: str = Field(min_length=1, max_length=256)
    plan_key: str = Field(min_length=1, max_length=128)
    plan_version: Annotated[StrictInt, Field(ge=1, le=INT32_MAX), INTEGRAL] | None = Field(default=None)
    term_start: date
    term_end: date
    seats: Annotated[StrictInt, Field(ge=0, le=10_000_000), INTEGRAL] = Field(default=1)
    addons: list[str] = Field(default_factory=list, max_length=100)
    timezone: str = Field(default="UTC", max_length=64)
    reason: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _term(self) -> LicenseCreate:
        if self.term_end <= self.term_start:
            raise ValueError("term_end must be after term_start")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone '{self.timezone}'") from error
        return self


class LicenseRead(BaseModel):
    id: str
    account_id: str
    plan_key: str
    plan_version: int
    status: str
    term_start: date
    term_end: date
    seats: int
    addons: dict[str, int]
    timezone: str
    pending_plan_key: str | None = None
    pending_plan_version: int | None = None
    status_changed_at: datetime | None = None
    trials: list[TrialInForce] = Field(default_factory=list, description="Running trials, applied in checks.")


class LicensesImport(Strict):
    licenses: list[LicenseCreate] = Field(min_length=1, max_length=IMPORT_LIMIT)


class LicensesImported(BaseModel):
    licenses: list[LicenseRead] = Field(description="The licenses created, in the order sent.")


class LicenseRenew(Reason):
    term_end: date | None = Field(
        default=None, description="New end of term; default: extended by the term's own length."
    )


class PlanChange(Reason):
    plan_key: str = Field(min_length=1, max_length=128)
    plan_version: Annotated[StrictInt, Field(ge=1, le=INT32_MAX), INTEGRAL] | None = Field(
        default=None, description="Default: the latest published."
    )
    effective: Literal["now", "at_renewal"] = "now"


class AddonAdd(Reason):
    addon_key: str = Field(min_length=1, max_length=128)
    addon_version: Annotated[StrictInt, Field(ge=1, le=INT32_MAX), INTEGRAL] | None = Field(default=None)


class HistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    license_id: str | None
    action: str
    actor: str
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime
    seq: int | None = None
    prev_hash: str | None = None
    hash: str | None = None


class SeatAssign(Reason):
    user_id: str = Field(min_length=1, max_length=256)


class SeatsRead(BaseModel):
    license_id: str
    purchased: int
    assigned: int
    users: list[str]


class SeatHolder(BaseModel):
    user_id: str
    last_active_at: datetime | None
    active: bool


class AllocationRead(BaseModel):
    account_id: str
    license_id: str
    purchased: int
    assigned: int
    active: int = Field(description="Seat holders with usage in the activity window (default 30 days).")
    idle: int
    active_window_days: int
    users: list[SeatHolder]


class GrantCreate(Reason):
    feature_key: str = Field(min_length=1, max_length=128)
    kind: Literal["early_access", "support_level", "feature_override"] = "feature_override"
    value: JsonValue = Field(
        default=None,
        description="support_level: the level; feature_override: {enabled, limit, hard, config}.",
    )
    starts_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _window(self) -> GrantCreate:
        if self.starts_at and self.expires_at and self.expires_at <= self.starts_at:
            raise ValueError("expires_at must be after starts_at")
        return self


class GrantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    account_id: str
    feature_key: str
    kind: str
    value: JsonValue = None
    source: str
    starts_at: datetime
    expires_at: datetime | None
    actor: str
    reason: str | None
