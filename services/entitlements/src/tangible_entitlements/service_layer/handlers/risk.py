"""Renewals at risk: key-feature usage falling period over period shortly before renewal.

Compared once per license, term and period (marked in `signal_marks`), once the period has
been over for a day so that late usage is counted. The noise rule (`risk_min_volume`) keeps
small volumes from signalling: a fall from 3 to 1 is not a trend.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from tangible_entitlements.domain import reports, signals
from tangible_entitlements.domain.model import License
from tangible_entitlements.domain.policy import LifecyclePolicy
from tangible_entitlements.domain.signals import MarkKey
from tangible_entitlements.service_layer import translate
from tangible_entitlements.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock
from tangible_schemas import EventData
from tangible_schemas.entitlements import Evidence

SETTLE = timedelta(days=1)


def _moment(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(zone))


def _periods(license: License, policy: LifecyclePolicy, now: datetime) -> tuple[date, date, date]:
    reference = (now - SETTLE).astimezone(ZoneInfo(license.timezone)).date()
    return signals.risk_periods(reference, policy.risk_period)


async def detect_renewal_risks(*, uow: UnitOfWork, clock: Clock, default_window_days: int) -> int:
    async with uow:
        now = clock.now()
        renewing = await uow.signals.renewing_within(now, default_window_days)
        accounts = sorted({(r.tenant_id, r.account_id) for r in renewing})
        licenses = await uow.licenses.for_accounts(accounts)
        current = {r.license_id for r in renewing}
        licenses = {k: lic for k, lic in licenses.items() if lic.id in current}  # the current license only
        policies = await uow.policies.get_many({t for t, _ in licenses})
        candidates: dict[MarkKey, tuple[License, tuple[date, date, date]]] = {}
        for (tenant, account), license in licenses.items():
            periods = _periods(license, policies[tenant], now)
            key = (tenant, account, "renewal_risk", f"{license.id}:{license.term_end}:{periods[1]}")
            candidates[key] = (license, periods)
        for key in await uow.signals.marked(list(candidates)):
            del candidates[key]
        if not candidates:
            return 0
        first = min(p[0] for _, p in candidates.values())
        last = max(p[2] for _, p in candidates.values())
        days = await uow.reports.days_of([(k[0], k[1]) for k in candidates], first, last)
        features = await uow.catalog.features({k[0] for k in candidates})
        marks: list[tuple[MarkKey, dict[str, Any] | None]] = []
        events: dict[MarkKey, EventData] = {}
        for key, (license, (previous_start, last_start, last_end)) in candidates.items():
            policy = policies[license.tenant_id]
            used = days.get((key[0], key[1]), {})
            totals = {}
            for feature in policy.key(features.get(license.tenant_id, [])):
                assert feature.meter is not None
                series = used.get(feature.key, {})
                aggregation = feature.meter.aggregation
                before = reports.total(series, aggregation, previous_start, last_start - timedelta(days=1))
                totals[feature.key] = (before, reports.total(series, aggregation, last_start, last_end))
            found = signals.declines(
                totals, percent=policy.risk_decline_percent, min_volume=policy.risk_min_volume
            )
            if not found:
                marks.append((key, None))
                continue
            zone = license.timezone
            evidence = [
                Evidence(
                    feature_key=d.feature_key,
                    usage=d.current,
                    previous_usage=d.previous,
                    period_start=_moment(last_start, zone),
                    period_end=_moment(last_end + timedelta(days=1), zone),
                    previous_period_start=_moment(previous_start, zone),
                    detail=f"fell {d.percent:g} % from {d.previous:g} to {d.current:g}",
                )
                for d in found
            ]
            period: Literal["week", "month"] = "week" if policy.risk_period == "week" else "month"
            event: EventData = translate.renewal_at_risk(
                license, max(d.percent for d in found), evidence, period
            )
            events[key] = event
            marks.append((key, event.model_dump(mode="json")))
        emitted = [events[k] for k in await uow.signals.mark(marks, now) if k in events]
        for event in emitted:
            uow.outbox.add(event)
        await uow.commit()
    return len(emitted)
