"""Catalog and licenses. Pure Python: no framework, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class FeatureKind(StrEnum):
    BOOLEAN = "boolean"
    METERED = "metered"
    SEATS = "seats"
    CONFIG = "config"


class Aggregation(StrEnum):
    COUNT = "count"
    SUM = "sum"
    MAX = "max"
    UNIQUE_COUNT = "unique_count"
    LATEST = "latest"


class ResetPeriod(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    NEVER = "never"


class CatalogStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class LicenseStatus(StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    GRACE = "grace"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    REVOKED = "revoked"

    @property
    def grants_access(self) -> bool:
        return self in (LicenseStatus.TRIALING, LicenseStatus.ACTIVE, LicenseStatus.GRACE)


ACCESS_STATUSES = tuple(s.value for s in LicenseStatus if s.grants_access)


@dataclass(frozen=True)
class Meter:
    """How usage events count toward a metered feature."""

    event_type: str
    aggregation: Aggregation = Aggregation.COUNT
    value_path: str | None = None  # dotted path into the event's properties; quantity if None
    reset_period: ResetPeriod = ResetPeriod.MONTH


@dataclass(frozen=True)
class Feature:
    key: str
    name: str
    kind: FeatureKind
    meter: Meter | None = None
    outcome: str = ""  # plain language: "Generate board-ready reports in one click"
    impact_metric: str | None = None  # "hours saved"
    impact_per_unit: float | None = None  # 0.25 hours per report
    thresholds: tuple[int, ...] = (50, 80, 100)


@dataclass(frozen=True)
class FeatureValue:
    """What a plan or add-on grants for one feature."""

    enabled: bool = True
    limit: float | None = None  # metered: per reset period; seats: seat count
    hard: bool = True  # hard limits deny access past the limit; soft ones track overage
    config: Any = None


@dataclass(frozen=True)
class CatalogItem:
    """A version of a plan (tier) or an add-on: an outcome bundle of feature values."""

    key: str
    version: int
    kind: str  # "plan" | "addon"
    name: str
    status: CatalogStatus
    features: dict[str, FeatureValue] = field(default_factory=dict)
    price: float = 0.0


@dataclass(frozen=True)
class TrialOverlay:
    """An active trial on a license: the plan or add-on version it puts in force until
    `ends_at`, and the committed value it overrides (put back unless the trial converts)."""

    id: str
    target_kind: str  # plan | addon
    target_key: str
    target_version: int
    ends_at: datetime
    restore_plan_key: str | None = None  # plan trials: the committed plan
    restore_version: int | None = None  # plan: its version; add-on: the add-on's (None: absent)


@dataclass
class License:
    id: str
    tenant_id: str
    account_id: str
    plan_key: str
    plan_version: int
    status: LicenseStatus
    term_start: date
    term_end: date
    seats: int
    addons: dict[str, int] = field(default_factory=dict)  # add-on key → version
    timezone: str = "UTC"
    pending_plan_key: str | None = None  # a plan change that takes effect at renewal
    pending_plan_version: int | None = None
    prior_state: dict[str, Any] | None = None  # what restore/reinstate brings back
    status_changed_at: datetime | None = None
    trials: tuple[TrialOverlay, ...] = ()  # active trials, applied on top in checks


@dataclass(frozen=True)
class Trial:
    """A trial's record: what it put on which license, until when, and how it ended."""

    id: str
    tenant_id: str
    account_id: str
    license_id: str
    target_kind: str  # plan | addon
    target_key: str
    target_version: int
    features: tuple[str, ...]  # the feature set the trial changes, sorted
    started_at: datetime
    ends_at: datetime
    status: str  # active | expired | cancelled | converted
    actor: str
    reason: str | None = None
    ended_at: datetime | None = None
