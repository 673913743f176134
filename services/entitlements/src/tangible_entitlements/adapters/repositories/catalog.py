"""Catalog rows ↔ features and plan / add-on versions. Never commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.adapters import tables as t
from tangible_entitlements.domain.model import (
    Aggregation,
    CatalogItem,
    CatalogStatus,
    Feature,
    FeatureKind,
    FeatureValue,
    Meter,
    ResetPeriod,
)

ItemKey = tuple[str, str, int]  # tenant, key, version


def feature_from_row(row: RowMapping) -> Feature:
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


def item_from_row(row: RowMapping) -> CatalogItem:
    return CatalogItem(
        key=row["key"],
        version=row["version"],
        kind=row["kind"],
        name=row["name"],
        status=CatalogStatus(row["status"]),
        features={k: FeatureValue(**v) for k, v in row["features"].items()},
        price=row["price"],
    )


def _feature_values(feature: Feature) -> dict[str, Any]:
    return {
        "key": feature.key,
        "name": feature.name,
        "kind": feature.kind.value,
        "meter": asdict(feature.meter) if feature.meter else None,
        "outcome": feature.outcome,
        "impact_metric": feature.impact_metric,
        "impact_per_unit": feature.impact_per_unit,
        "thresholds": list(feature.thresholds),
    }


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_feature(self, tenant_id: str, feature: Feature) -> None:
        await self._session.execute(
            insert(t.features).values(tenant_id=tenant_id, **_feature_values(feature))
        )

    async def save_feature(self, tenant_id: str, feature: Feature) -> None:
        await self._session.execute(
            update(t.features)
            .where(t.features.c.tenant_id == tenant_id, t.features.c.key == feature.key)
            .values(**_feature_values(feature), updated_at=func.now())
        )

    async def feature(self, tenant_id: str, key: str) -> Feature | None:
        query = select(t.features).where(t.features.c.tenant_id == tenant_id, t.features.c.key == key)
        row = (await self._session.execute(query)).mappings().first()
        return feature_from_row(row) if row else None

    async def features(self, tenant_ids: Iterable[str]) -> dict[str, list[Feature]]:
        query = (
            select(t.features).where(t.features.c.tenant_id.in_(set(tenant_ids))).order_by(t.features.c.key)
        )
        result: dict[str, list[Feature]] = {}
        for row in (await self._session.execute(query)).mappings():
            result.setdefault(row["tenant_id"], []).append(feature_from_row(row))
        return result

    async def all_features(self) -> dict[str, list[Feature]]:
        """Every tenant's features (a read replica's cold start)."""
        result: dict[str, list[Feature]] = {}
        for row in (await self._session.execute(select(t.features))).mappings():
            result.setdefault(row["tenant_id"], []).append(feature_from_row(row))
        return result

    async def page_features(self, tenant_id: str, *, limit: int, offset: int) -> tuple[list[Feature], int]:
        where = t.features.c.tenant_id == tenant_id
        rows = await self._session.execute(
            select(t.features).where(where).order_by(t.features.c.key).limit(limit).offset(offset)
        )
        total = await self._session.scalar(select(func.count()).select_from(t.features).where(where))
        return [feature_from_row(r) for r in rows.mappings()], int(total or 0)

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

    async def save_draft(self, tenant_id: str, item: CatalogItem) -> None:
        await self._session.execute(
            update(t.catalog_items)
            .where(
                t.catalog_items.c.tenant_id == tenant_id,
                t.catalog_items.c.key == item.key,
                t.catalog_items.c.version == item.version,
                t.catalog_items.c.status == CatalogStatus.DRAFT.value,
            )
            .values(
                name=item.name,
                features={k: asdict(v) for k, v in item.features.items()},
                price=item.price,
                updated_at=func.now(),
            )
        )

    async def latest_version(self, tenant_id: str, key: str, *, lock: bool = False) -> tuple[int, str | None]:
        """Highest version of `key` and its kind; `lock` serialises concurrent new versions."""
        if lock:
            await self._session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:t || '/' || :k))"), {"t": tenant_id, "k": key}
            )
        row = (
            await self._session.execute(
                text(
                    "SELECT version, kind FROM catalog_items WHERE tenant_id = :t AND key = :k "
                    "ORDER BY version DESC LIMIT 1"
                ),
                {"t": tenant_id, "k": key},
            )
        ).first()
        return (int(row.version), str(row.kind)) if row else (0, None)

    async def item(self, tenant_id: str, key: str, version: int | None = None) -> CatalogItem | None:
        """A given version, or (version None) the latest published one."""
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
        return item_from_row(row) if row else None

    async def items(self, keys: Iterable[ItemKey]) -> dict[ItemKey, CatalogItem]:
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
        return {(row["tenant_id"], row["key"], row["version"]): item_from_row(row) for row in rows}

    async def non_drafts(self, tenant_ids: Iterable[str] | None = None) -> dict[ItemKey, CatalogItem]:
        """Published and retired versions (what licenses can reference)."""
        query = select(t.catalog_items).where(t.catalog_items.c.status != CatalogStatus.DRAFT.value)
        if tenant_ids is not None:
            query = query.where(t.catalog_items.c.tenant_id.in_(set(tenant_ids)))
        rows = (await self._session.execute(query)).mappings()
        return {(r["tenant_id"], r["key"], r["version"]): item_from_row(r) for r in rows}

    async def page_items(
        self, tenant_id: str, kind: str, *, key: str | None, limit: int, offset: int
    ) -> tuple[list[CatalogItem], int]:
        """Versions of one key (newest first), or the newest version of every key."""
        c = t.catalog_items.c
        where = [c.tenant_id == tenant_id, c.kind == kind]
        if key is not None:
            query = select(t.catalog_items).where(*where, c.key == key).order_by(c.version.desc())
        else:
            query = (
                select(t.catalog_items)
                .ext(distinct_on(c.key))
                .where(*where)
                .order_by(c.key, c.version.desc())
            )
        total = await self._session.scalar(select(func.count()).select_from(query.subquery()))
        rows = (await self._session.execute(query.limit(limit).offset(offset))).mappings()
        return [item_from_row(r) for r in rows], int(total or 0)

    async def set_status(
        self, tenant_id: str, key: str, version: int, status: CatalogStatus, at: datetime
    ) -> None:
        c = t.catalog_items.c
        values: dict[str, Any] = {"status": status.value, "updated_at": at}
        if status is CatalogStatus.PUBLISHED:
            values["published_at"] = at
        if status is CatalogStatus.RETIRED:
            values["retired_at"] = at
        await self._session.execute(
            update(t.catalog_items)
            .where(c.tenant_id == tenant_id, c.key == key, c.version == version)
            .values(**values)
        )

    async def published_latest(self, tenant_id: str) -> list[CatalogItem]:
        """The latest published version of every plan and add-on (what can be sold today)."""
        rows = await self._session.execute(
            text(
                "SELECT DISTINCT ON (key) * FROM catalog_items WHERE tenant_id = :t AND status = 'published' "
                "ORDER BY key, version DESC"
            ),
            {"t": tenant_id},
        )
        return [item_from_row(r) for r in rows.mappings()]
