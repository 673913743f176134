"""Commands the entitlements service handles (from HTTP routes and Kafka consumers alike)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tangible_entitlements.domain.metering import Usage
from tangible_entitlements.domain.model import Feature, FeatureValue


@dataclass(frozen=True)
class CreateFeature:
    tenant_id: str
    feature: Feature


@dataclass(frozen=True)
class CreateCatalogItem:
    """A new draft version of a plan or add-on (version = latest + 1)."""

    tenant_id: str
    key: str
    kind: str
    name: str
    features: dict[str, FeatureValue]
    price: float = 0.0


@dataclass(frozen=True)
class PublishCatalogItem:
    tenant_id: str
    key: str
    version: int


@dataclass(frozen=True)
class CreateLicense:
    tenant_id: str
    account_id: str
    plan_key: str
    term_start: date
    term_end: date
    seats: int
    plan_version: int | None = None  # None: the latest published version
    addons: list[str] = field(default_factory=list)
    timezone: str = "UTC"
    actor: str = "api"
    reason: str | None = None


@dataclass(frozen=True)
class RecordUsage:
    """A consumed batch of usage; `raw` lets refused records go to the dead-letter topic."""

    consumer: str
    usages: Sequence[Usage]
    raw: dict[str, tuple[bytes, bytes, list[tuple[str, bytes]]]]


@dataclass(frozen=True)
class UpdateFeature:
    """Edit a feature's plain-language side (name, outcome, impact, thresholds)."""

    tenant_id: str
    key: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class EditCatalogItem:
    """Change a draft version in place; published and retired versions are immutable."""

    tenant_id: str
    key: str
    kind: str
    version: int
    name: str | None = None
    features: dict[str, FeatureValue] | None = None
    price: float | None = None


@dataclass(frozen=True)
class RetireCatalogItem:
    tenant_id: str
    key: str
    kind: str
    version: int


@dataclass(frozen=True)
class LicenseChange:
    """Base of every change to an existing license: who, why."""

    tenant_id: str
    license_id: str
    actor: str
    reason: str | None


@dataclass(frozen=True)
class RenewLicense(LicenseChange):
    term_end: date | None = None


@dataclass(frozen=True)
class ChangePlan(LicenseChange):
    plan_key: str
    plan_version: int | None = None
    effective: str = "now"  # now | at_renewal


@dataclass(frozen=True)
class AddAddon(LicenseChange):
    addon_key: str
    addon_version: int | None = None


@dataclass(frozen=True)
class RemoveAddon(LicenseChange):
    addon_key: str


@dataclass(frozen=True)
class ChangeStatus(LicenseChange):
    transition: str  # suspended | reinstated | revoked | restored


@dataclass(frozen=True)
class AssignSeat(LicenseChange):
    user_id: str


@dataclass(frozen=True)
class UnassignSeat(LicenseChange):
    user_id: str


@dataclass(frozen=True)
class GrantBenefit:
    """A time-bound grant on top of the plan: from a reward, or manual via the admin API."""

    tenant_id: str
    account_id: str
    grant_id: str
    feature_key: str
    kind: str
    value: Any
    source: str
    starts_at: datetime
    expires_at: datetime | None
    actor: str = "system"
    reason: str | None = None


@dataclass(frozen=True)
class ApplyRewardGrants:
    """A consumed batch of `reward_granted`: each becomes a grant, exactly once."""

    consumer: str
    grants: Sequence[tuple[str, GrantBenefit | None]]  # event id → grant (None: not for us)


@dataclass(frozen=True)
class EndGrant:
    tenant_id: str
    grant_id: str
    actor: str
    reason: str | None = None


@dataclass(frozen=True)
class StartTrial(LicenseChange):
    target_kind: str  # plan | addon
    target_key: str
    days: int
    target_version: int | None = None  # None: the latest published


@dataclass(frozen=True)
class EndTrial(LicenseChange):
    trial_id: str
    outcome: str  # cancelled | converted | expired
