"""The check computation shared by the in-memory view and the database path."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tangible_entitlements.domain.entitlement import Entitlement
from tangible_entitlements.domain.errors import FeatureNotFound
from tangible_entitlements.domain.model import Feature, FeatureKind, License
from tangible_entitlements.domain.periods import period_bounds


@dataclass(frozen=True)
class CheckResult:
    entitlement: Entitlement
    period_start: datetime | None
    period_end: datetime | None


class Source(Protocol):
    def evaluate(
        self, tenant_id: str, account_id: str, feature: Feature, *, usage: float, at: datetime
    ) -> Entitlement: ...


def check(
    source: Source,
    license: License,
    features: Iterable[Feature],
    *,
    at: datetime,
    feature_key: str | None,
    counter: Callable[[Feature, datetime], float],
    seats_assigned: int,
) -> list[CheckResult]:
    """Evaluate every feature (or one) of the license's tenant at `at`."""
    wanted = [f for f in features if feature_key is None or f.key == feature_key]
    if feature_key is not None and not wanted:
        raise FeatureNotFound(f"feature '{feature_key}' does not exist")
    results: list[CheckResult] = []
    for feature in wanted:
        start: datetime | None = None
        end: datetime | None = None
        usage = 0.0
        if feature.kind is FeatureKind.METERED and feature.meter is not None:
            start, end = period_bounds(feature.meter.reset_period, at, license.timezone)
            usage = counter(feature, start)
        elif feature.kind is FeatureKind.SEATS:
            usage = float(seats_assigned)
        entitlement = source.evaluate(license.tenant_id, license.account_id, feature, usage=usage, at=at)
        results.append(CheckResult(entitlement, start, end))
    return results
