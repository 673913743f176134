"""Request and response DTOs (XCreate / XRead) of the entitlements API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, model_validator

Key = str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeterIn(Strict):
    event_type: str = Field(min_length=1, max_length=256, examples=["report.generated"])
    aggregation: Literal["count", "sum", "max", "unique_count", "latest"] = "count"
    value_path: str | None = Field(
        default=None, max_length=256, description="Dotted path into the event data."
    )
    reset_period: Literal["day", "week", "month", "quarter", "year", "never"] = "month"


class FeatureCreate(Strict):
    key: str = Field(min_length=1, max_length=128, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=256)
    kind: Literal["boolean", "metered", "seats", "config"]
    meter: MeterIn | None = None
    outcome: str = Field(default="", max_length=1000, description="Plain-language benefit.")
    impact_metric: str | None = Field(default=None, max_length=128, examples=["hours saved"])
    impact_per_unit: float | None = Field(default=None, ge=0, le=1e9)
    thresholds: list[int] = Field(default=[50, 80, 100], max_length=10)

    @model_validator(mode="after")
    def _meter_for_metered(self) -> FeatureCreate:
        if (self.kind == "metered") != (self.meter is not None):
            raise ValueError("metered features need a meter, and only they have one")
        if any(not 0 < t <= 1000 for t in self.thresholds):
            raise ValueError("thresholds are percentages between 1 and 1000")
        return self


class FeatureRead(FeatureCreate):
    pass


class FeatureValueIn(Strict):
    enabled: bool = True
    limit: float | None = Field(default=None, ge=0, le=1e15)
    hard: bool = True
    config: Any = None


class CatalogItemCreate(Strict):
    key: str = Field(min_length=1, max_length=128, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=256)
    features: dict[str, FeatureValueIn] = Field(default_factory=dict, max_length=500)
    price: float = Field(default=0.0, ge=0, le=1e12)


class CatalogItemRead(BaseModel):
    key: str
    version: int
    kind: Literal["plan", "addon"]
    name: str
    status: Literal["draft", "published", "retired"]
    features: dict[str, FeatureValueIn]
    price: float


class LicenseCreate(Strict):
    account_id: str = Field(min_length=1, max_length=256)
    plan_key: str = Field(min_length=1, max_length=128)
    plan_version: int | None = Field(default=None, ge=1)
    term_start: date
    term_end: date
    seats: int = Field(default=1, ge=0, le=10_000_000)
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


class SourceRead(BaseModel):
    kind: Literal["plan", "addon", "trial", "grant"]
    key: str
    version: int | None = None
    expires_at: datetime | None = None


class EntitlementRead(BaseModel):
    feature_key: str
    kind: Literal["boolean", "metered", "seats", "config"]
    has_access: bool
    limit: float | None
    usage: float
    remaining: float | None
    overage: float
    limit_type: Literal["hard", "soft"]
    period_start: datetime | None
    period_end: datetime | None
    config: Any = None
    sources: list[SourceRead]


class EntitlementList(BaseModel):
    account_id: str
    at: datetime
    entitlements: list[EntitlementRead]
