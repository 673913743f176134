"""Commands the entitlements service handles (from HTTP routes and Kafka consumers alike)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

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
