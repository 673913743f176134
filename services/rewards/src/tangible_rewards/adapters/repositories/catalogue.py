"""The reward catalogue's items and the redemptions of them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_rewards.adapters.tables import catalog_items, catalog_redemptions
from tangible_rewards.domain.catalogue import CatalogItem
from tangible_rewards.service_layer.reads import ItemRedemptionRecord

_MUTABLE = (
    "name",
    "description",
    "price",
    "unit",
    "stock",
    "per_account_limit",
    "active_from",
    "active_until",
    "updated_at",
)


def _item(row: Any) -> CatalogItem:
    return CatalogItem(
        tenant_id=row.tenant_id,
        key=row.key,
        name=row.name,
        price=row.price,
        unit=row.unit,
        description=row.description,
        stock=row.stock,
        per_account_limit=row.per_account_limit,
        active_from=row.active_from,
        active_until=row.active_until,
        redeemed=row.redeemed,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, item: CatalogItem) -> bool:
        """False if the tenant already has an item with this key."""
        values = {k: v for k, v in asdict(item).items() if k not in ("created_at", "updated_at")}
        values["created_at"] = values["updated_at"] = item.updated_at or item.created_at
        statement = (
            pg_insert(catalog_items).values(**values).on_conflict_do_nothing().returning(catalog_items.c.key)
        )
        return (await self._session.execute(statement)).first() is not None

    async def get(self, tenant_id: str, key: str, *, lock: bool = False) -> CatalogItem | None:
        query = select(catalog_items).where(
            catalog_items.c.tenant_id == tenant_id, catalog_items.c.key == key
        )
        if lock:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        return _item(row) if row is not None else None

    async def page(
        self, tenant_id: str, *, active_at: datetime | None, limit: int, offset: int
    ) -> tuple[list[CatalogItem], int]:
        """By key; with `active_at`, only the items inside their window then."""
        condition = catalog_items.c.tenant_id == tenant_id
        if active_at is not None:
            condition &= (
                catalog_items.c.active_from.is_(None) | (catalog_items.c.active_from <= active_at)
            ) & (catalog_items.c.active_until.is_(None) | (catalog_items.c.active_until > active_at))
        total = (await self._session.execute(select(func.count()).where(condition))).scalar_one()
        rows = await self._session.execute(
            select(catalog_items).where(condition).order_by(catalog_items.c.key).limit(limit).offset(offset)
        )
        return [_item(r) for r in rows], int(total)

    async def update(self, item: CatalogItem) -> None:
        await self._session.execute(
            update(catalog_items)
            .where(catalog_items.c.tenant_id == item.tenant_id, catalog_items.c.key == item.key)
            .values({name: getattr(item, name) for name in _MUTABLE})
        )

    async def take_one(self, tenant_id: str, key: str) -> tuple[bool, int | None]:
        """Atomically one fewer in stock (if stocked) and one more redeemed: (taken, stock left).
        Not taken when the stock is at zero, whatever the caller believed."""
        row = (
            await self._session.execute(
                update(catalog_items)
                .where(
                    catalog_items.c.tenant_id == tenant_id,
                    catalog_items.c.key == key,
                    catalog_items.c.stock.is_(None) | (catalog_items.c.stock > 0),
                )
                .values(stock=catalog_items.c.stock - 1, redeemed=catalog_items.c.redeemed + 1)
                .returning(catalog_items.c.stock)
            )
        ).first()
        return (False, 0) if row is None else (True, row.stock)

    async def redeemed_by(self, tenant_id: str, account_id: str, key: str) -> int:
        count = await self._session.execute(
            select(func.count()).where(
                catalog_redemptions.c.tenant_id == tenant_id,
                catalog_redemptions.c.account_id == account_id,
                catalog_redemptions.c.item_key == key,
            )
        )
        return int(count.scalar_one())

    async def record(self, redemption: ItemRedemptionRecord) -> None:
        await self._session.execute(insert(catalog_redemptions).values(**asdict(redemption)))
