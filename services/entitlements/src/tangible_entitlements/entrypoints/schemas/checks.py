"""Check and report DTOs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


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


class SeriesPoint(BaseModel):
    period_start: datetime
    value: float


class FeatureImpact(BaseModel):
    metric: str
    per_unit: float
    value: float


class CohortRead(BaseModel):
    plan_key: str
    plan_name: str | None = Field(default=None, description='The plan\'s name, for messages ("Growth").')
    percentile: float = Field(
        description="Share of the plan's accounts (0–100) using it less over these days."
    )
    minimum_cohort_size: int = Field(description="Below this many accounts the percentile is withheld.")


class FeatureUsage(BaseModel):
    feature_key: str
    name: str
    outcome: str
    total: float
    series: list[SeriesPoint]
    impact: FeatureImpact | None
    cohort: CohortRead | None = Field(
        default=None, description="Key features only; null when the plan's cohort is too small."
    )


class ImpactTotal(BaseModel):
    metric: str
    value: float


class BenefitInForce(BaseModel):
    feature_key: str
    name: str
    outcome: str
    sources: list[SourceRead]


class UsageReport(BaseModel):
    account_id: str
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    granularity: Literal["day", "week", "month"]
    features: list[FeatureUsage]
    impact: list[ImpactTotal]
    benefits_in_force: list[BenefitInForce]
