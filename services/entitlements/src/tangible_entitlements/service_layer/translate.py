"""Domain facts → wire events (libs/schemas). Payloads carry ids and changed values."""

from __future__ import annotations

from tangible_entitlements.domain.metering import CounterKey
from tangible_entitlements.domain.model import License
from tangible_schemas.entitlements import LicenseCreated, ThresholdCrossed


def license_created(license: License, actor: str, reason: str | None) -> LicenseCreated:
    return LicenseCreated(
        tenant_id=license.tenant_id,
        account_id=license.account_id,
        license_id=license.id,
        status=license.status.value,
        plan_key=license.plan_key,
        plan_version=license.plan_version,
        actor=actor,
        reason=reason,
        term_start=license.term_start,
        term_end=license.term_end,
        seats=license.seats,
        addons=sorted(license.addons),
    )


def threshold_crossed(key: CounterKey, percent: int, usage: float, limit: float) -> ThresholdCrossed:
    return ThresholdCrossed(
        tenant_id=key.tenant_id,
        account_id=key.account_id,
        feature_key=key.feature_key,
        threshold_percent=percent,
        usage=usage,
        limit=limit,
        period_start=key.period_start,
    )
