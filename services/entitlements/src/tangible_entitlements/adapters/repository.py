"""Repositories: rows ↔ domain objects. They never commit (the unit of work does)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.adapters import tables as t
from tangible_entitlements.domain.entitlement import Grant
from tangible_entitlements.domain.metering import CounterDelta, CounterKey
from tangible_entitlements.domain.model import (
    Aggregation,
    CatalogItem,
    CatalogStatus,
    Feature,
    FeatureKind,
    FeatureValue,
    License,
    LicenseStatus,
    Meter,
    ResetPeriod,
)


def _feature(row: RowMapping) -> Feature:
    meter = row["meter"]
    return Feature(
        key=row["key"],
        name=row["name"],
        kind=FeatureKind(row["kind"]),
        meter=Meter(
            event_type=meter["event_type"],
            aggregation=Aggregation(meter["aggregation"]),
            value_path=meter.get("value_path"),
            reset_period=ResetPeriod(meter["reset_period"]),
        )
        if meter
        else None,
        outcome=row["outcome"],
        impact_metric=row["impact_metric"],
        impact_per_unit=row["impact_per_unit"],
        thresholds=tuple(row["thresholds"]),
    )


def _item(row: RowMapping) -> CatalogItem:
    return CatalogItem(
        key=row["key"],
        version=row["version"],
        kind=row["kind"],
        name=row["name"],
        status=CatalogStatus(row["status"]),
        features={k: FeatureValue(**v) for k, v in row["features"].items()},
        price=row["price"],
    )


def _license(row: RowMapping) -> License:
    return License(
        id=row["id"],
        tenant_id=row["tenant_id"],
        account_id=row["account_id"],
        plan_key=row["plan_key"],
        plan_version=row["plan_version"],
        status=LicenseStatus(row["status"]),
        term_start=row["term_start"],
        term_end=row["term_end"],
        seats=row["seats"],
        addons=dict(row["addons"]),
        timezone=row["timezone"],
    )


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_feature(self, tenant_id: str, feature: Feature) -> None:
        await self._session.execute(
            insert(t.features).values(
                tenant_id=tenant_id,
                key=feature.key,
                name=feature.name,
                kind=feature.kind.value,
                meter=asdict(feature.meter) if feature.meter else None,
                outcome=feature.outcome,
                impact_metric=feature.impact_metric,
                impact_per_unit=feature.impact_per_unit,
                thresholds=list(feature.thresholds),
            )
        )

    async def feature(self, tenant_id: str, key: str) -> Feature | None:
        row = (
            (
                await self._session.execute(
                    select(t.features).where(t.features.c.tenant_id == tenant_id, t.features.c.key == key)
                )
            )
            .mappings()
            .first()
        )
        return _feature(row) if row else None

    async def features(self, tenant_ids: Iterable[str]) -> dict[str, list[Feature]]:
        rows = (
            await self._session.execute(select(t.features).where(t.features.c.tenant_id.in_(set(tenant_ids))))
        ).mappings()
        result: dict[str, list[Feature]] = {}
        for row in rows:
            result.setdefault(row["tenant_id"], []).append(_feature(row))
        return result

    async def add_item(self, tenant_id: str, item: CatalogItem) -> None:
        await self._session.execute(
            insert(t.catalog_items).values(
                tenant_id=tenant_id,
                key=item.key,
                version=item.version,
                kind=item.kind,
                name=item.name,
                status=item.status.value,
                features={k: asdict(v) for k, v in item.features.items()},
                price=item.price,
            )
        )

    async def latest_version(self, tenant_id: str, key: str) -> int:
        version = await self._session.scalar(
            text("SELECT max(version) FROM catalog_items WHERE tenant_id = :t AND key = :k"),
            {"t": tenant_id, "k": key},
        )
        return int(version or 0)

    async def item(self, tenant_id: str, key: str, version: int | None = None) -> CatalogItem | None:
        query = select(t.catalog_items).where(
            t.catalog_items.c.tenant_id == tenant_id, t.catalog_items.c.key == key
        )
        if version is None:
            query = query.where(t.catalog_items.c.status == "published").order_by(
                t.catalog_items.c.version.desc()
            )
        else:
            query = query.where(t.catalog_items.c.version == version)
        row = (await self._session.execute(query.limit(1))).mappings().first()
        return _item(row) if row else None

    async def items(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], CatalogItem]:
        wanted = list(set(keys))
        if not wanted:
            return {}
        rows = (
            await self._session.execute(
                text(
                    """
                    SELECT c.*
                    FROM unnest(CAST(:tenants AS text[]), CAST(:keys AS text[]), CAST(:versions AS int[]))
                        AS w(tenant_id, key, version)
                    JOIN catalog_items c
                        ON c.tenant_id = w.tenant_id AND c.key = w.key AND c.version = w.version
                    """
                ),
                {
                    "tenants": [w[0] for w in wanted],
                    "keys": [w[1] for w in wanted],
                    "versions": [w[2] for w in wanted],
                },
            )
        ).mappings()
        return {(row["tenant_id"], row["key"], row["version"]): _item(row) for row in rows}

    async def set_status(
        self, tenant_id: str, key: str, version: int, status: CatalogStatus, at: datetime
    ) -> None:
        await self._session.execute(
            update(t.catalog_items)
            .where(
                t.catalog_items.c.tenant_id == tenant_id,
                t.catalog_items.c.key == key,
                t.catalog_items.c.version == version,
            )
            .values(
                status=status.value,
                published_at=at if status is CatalogStatus.PUBLISHED else t.catalog_items.c.published_at,
            )
        )


class LicenseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, license: License) -> None:
        values = _license_values(license)
        await self._session.execute(insert(t.licenses).values(**values))

    async def get(self, tenant_id: str, license_id: str) -> License | None:
        row = (
            (
                await self._session.execute(
                    select(t.licenses).where(
                        t.licenses.c.tenant_id == tenant_id, t.licenses.c.id == license_id
                    )
                )
            )
            .mappings()
            .first()
        )
        return _license(row) if row else None

    async def for_account(self, tenant_id: str, account_id: str) -> License | None:
        found = await self.for_accounts([(tenant_id, account_id)])
        return found.get((tenant_id, account_id))

    async def for_accounts(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], License]:
        """The current license of each account (latest created), in one query."""
        if not keys:
            return {}
        rows = (
            await self._session.execute(
                text(
                    """
                    SELECT DISTINCT ON (l.tenant_id, l.account_id) l.*
                    FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]))
                        AS k(tenant_id, account_id)
                    JOIN licenses l ON l.tenant_id = k.tenant_id AND l.account_id = k.account_id
                    ORDER BY l.tenant_id, l.account_id, l.created_at DESC
                    """
                ),
                {"tenants": [k[0] for k in keys], "accounts": [k[1] for k in keys]},
            )
        ).mappings()
        return {(row["tenant_id"], row["account_id"]): _license(row) for row in rows}

    async def record_history(
        self,
        license: License,
        *,
        action: str,
        actor: str,
        reason: str | None,
        before: dict[str, Any] | None,
        at: datetime,
    ) -> None:
        await self._session.execute(
            insert(t.license_history).values(
                tenant_id=license.tenant_id,
                license_id=license.id,
                account_id=license.account_id,
                action=action,
                actor=actor,
                reason=reason,
                before=before,
                after=license_snapshot(license),
                at=at,
            )
        )


def license_snapshot(license: License) -> dict[str, Any]:
    snapshot = _license_values(license)
    snapshot["term_start"] = license.term_start.isoformat()
    snapshot["term_end"] = license.term_end.isoformat()
    return snapshot


def _license_values(license: License) -> dict[str, Any]:
    return {
        "id": license.id,
        "tenant_id": license.tenant_id,
        "account_id": license.account_id,
        "plan_key": license.plan_key,
        "plan_version": license.plan_version,
        "addons": license.addons,
        "status": license.status.value,
        "term_start": license.term_start,
        "term_end": license.term_end,
        "seats": license.seats,
        "timezone": license.timezone,
    }


_UPSERT_COUNTERS = text(
    """
    INSERT INTO usage_counters AS c
        (tenant_id, account_id, feature_key, period_start, period_end, aggregation, value, last_event_at)
    SELECT * FROM unnest(
        CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:features AS text[]),
        CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]), CAST(:aggregations AS text[]),
        CAST(:amounts AS numeric[]), CAST(:lasts AS timestamptz[]))
    ON CONFLICT (tenant_id, account_id, feature_key, period_start) DO UPDATE SET
        value = CASE c.aggregation
            WHEN 'max' THEN GREATEST(c.value, EXCLUDED.value)
            WHEN 'latest' THEN
                CASE WHEN EXCLUDED.last_event_at >= c.last_event_at THEN EXCLUDED.value ELSE c.value END
            ELSE c.value + EXCLUDED.value END,
        last_event_at = GREATEST(c.last_event_at, EXCLUDED.last_event_at),
        updated_at = now()
    RETURNING tenant_id, account_id, feature_key, period_start, value
    """
)

_INSERT_UNIQUES = text(
    """
    INSERT INTO usage_uniques (tenant_id, account_id, feature_key, period_start, value)
    SELECT * FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:features AS text[]),
                         CAST(:starts AS timestamptz[]), CAST(:values AS text[]))
    ON CONFLICT DO NOTHING
    RETURNING tenant_id, account_id, feature_key, period_start
    """
)


class CounterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def apply(self, deltas: Sequence[CounterDelta]) -> dict[CounterKey, float]:
        """Apply every delta in one statement (plus one for unique values); new values back."""
        await self._count_new_uniques(deltas)
        if not deltas:
            return {}
        rows = await self._session.execute(
            _UPSERT_COUNTERS,
            {
                "tenants": [d.key.tenant_id for d in deltas],
                "accounts": [d.key.account_id for d in deltas],
                "features": [d.key.feature_key for d in deltas],
                "starts": [d.key.period_start for d in deltas],
                "ends": [d.period_end for d in deltas],
                "aggregations": [d.aggregation.value for d in deltas],
                "amounts": [d.amount for d in deltas],
                "lasts": [d.last_event_at for d in deltas],
            },
        )
        return {
            CounterKey(r.tenant_id, r.account_id, r.feature_key, r.period_start): float(r.value) for r in rows
        }

    async def _count_new_uniques(self, deltas: Sequence[CounterDelta]) -> None:
        rows = [
            (d, value)
            for d in deltas
            if d.aggregation is Aggregation.UNIQUE_COUNT
            for value in d.unique_values
        ]
        if not rows:
            return
        inserted = await self._session.execute(
            _INSERT_UNIQUES,
            {
                "tenants": [d.key.tenant_id for d, _ in rows],
                "accounts": [d.key.account_id for d, _ in rows],
                "features": [d.key.feature_key for d, _ in rows],
                "starts": [d.key.period_start for d, _ in rows],
                "values": [v for _, v in rows],
            },
        )
        new_per_key: dict[CounterKey, int] = {}
        for r in inserted:
            key = CounterKey(r.tenant_id, r.account_id, r.feature_key, r.period_start)
            new_per_key[key] = new_per_key.get(key, 0) + 1
        for delta in deltas:
            if delta.aggregation is Aggregation.UNIQUE_COUNT:
                delta.amount = float(new_per_key.get(delta.key, 0))

    async def value(self, tenant_id: str, account_id: str, feature_key: str, period_start: datetime) -> float:
        found = await self._session.scalar(
            text(
                "SELECT value FROM usage_counters WHERE tenant_id = :t AND account_id = :a "
                "AND feature_key = :f AND period_start = :p"
            ),
            {"t": tenant_id, "a": account_id, "f": feature_key, "p": period_start},
        )
        return float(found or 0)

    async def mark_thresholds(self, marks: Sequence[tuple[CounterKey, int]]) -> list[tuple[CounterKey, int]]:
        """Record crossings; returns only those never recorded before (once per period)."""
        if not marks:
            return []
        rows = await self._session.execute(
            text(
                """
                INSERT INTO threshold_marks (tenant_id, account_id, feature_key, period_start, percent)
                SELECT * FROM unnest(
                    CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:features AS text[]),
                    CAST(:starts AS timestamptz[]), CAST(:percents AS int[]))
                ON CONFLICT DO NOTHING
                RETURNING tenant_id, account_id, feature_key, period_start, percent
                """
            ),
            {
                "tenants": [k.tenant_id for k, _ in marks],
                "accounts": [k.account_id for k, _ in marks],
                "features": [k.feature_key for k, _ in marks],
                "starts": [k.period_start for k, _ in marks],
                "percents": [p for _, p in marks],
            },
        )
        return [
            (CounterKey(r.tenant_id, r.account_id, r.feature_key, r.period_start), r.percent) for r in rows
        ]


class GrantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def for_accounts(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[Grant]]:
        if not keys:
            return {}
        rows = (
            await self._session.execute(
                text(
                    """
                    SELECT g.*
                    FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]))
                        AS k(tenant_id, account_id)
                    JOIN grants g ON g.tenant_id = k.tenant_id AND g.account_id = k.account_id
                    """
                ),
                {"tenants": [k[0] for k in keys], "accounts": [k[1] for k in keys]},
            )
        ).mappings()
        result: dict[tuple[str, str], list[Grant]] = {}
        for r in rows:
            result.setdefault((r["tenant_id"], r["account_id"]), []).append(
                Grant(
                    r["id"],
                    r["feature_key"],
                    r["kind"],
                    r["value"],
                    r["source"],
                    r["starts_at"],
                    r["expires_at"],
                )
            )
        return result
