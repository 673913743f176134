"""Read side: entitlement checks (the hot path's source of truth)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tangible_entitlements.domain.entitlement import Entitlement
from tangible_entitlements.domain.errors import FeatureNotFound, LicenseNotFound
from tangible_entitlements.domain.model import FeatureKind
from tangible_entitlements.domain.periods import period_bounds
from tangible_entitlements.service_layer.resolver import EntitlementResolver
from tangible_entitlements.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class CheckResult:
    entitlement: Entitlement
    period_start: datetime | None
    period_end: datetime | None


async def check_entitlements(
    uow: UnitOfWork, *, tenant_id: str, account_id: str, at: datetime, feature_key: str | None = None
) -> list[CheckResult]:
    async with uow:
        license = await uow.licenses.for_account(tenant_id, account_id)
        if license is None:
            raise LicenseNotFound(f"account '{account_id}' has no license")
        features = await uow.catalog.features([tenant_id])
        resolver = await EntitlementResolver.load(uow, [license], features)
        wanted = [f for f in features.get(tenant_id, []) if feature_key is None or f.key == feature_key]
        if feature_key is not None and not wanted:
            raise FeatureNotFound(f"feature '{feature_key}' does not exist")
        results: list[CheckResult] = []
        for feature in wanted:
            start: datetime | None = None
            end: datetime | None = None
            usage = 0.0
            if feature.kind is FeatureKind.METERED and feature.meter is not None:
                start, end = period_bounds(feature.meter.reset_period, at, license.timezone)
                usage = await uow.counters.value(tenant_id, account_id, feature.key, start)
            results.append(
                CheckResult(resolver.evaluate(tenant_id, account_id, feature, usage=usage, at=at), start, end)
            )
    return results
