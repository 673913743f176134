"""The reward catalogue in memory, with the SQL's semantics: unique (tenant, key), the
conditional stock decrement, the CHECK that refuses a negative stock, order by key."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from services.rewards.tests.unit.fake_ledger import Violation
from services.rewards.tests.unit.fake_state import Tables
from tangible_rewards.domain.catalogue import CatalogItem
from tangible_rewards.service_layer.reads import ItemRedemptionRecord


class FakeCatalogRepository:
    def __init__(self, t: Tables) -> None:
        self._t = t

    async def add(self, item: CatalogItem) -> bool:
        if (item.tenant_id, item.key) in self._t.catalog:
            return False  # ON CONFLICT DO NOTHING
        self._t.catalog[(item.tenant_id, item.key)] = item
        return True

    async def get(self, tenant_id: str, key: str, *, lock: bool = False) -> CatalogItem | None:
        return self._t.catalog.get((tenant_id, key))

    async def page(
        self, tenant_id: str, *, active_at: datetime | None, limit: int, offset: int
    ) -> tuple[list[CatalogItem], int]:
        mine = sorted((i for i in self._t.catalog.values() if i.tenant_id == tenant_id), key=lambda i: i.key)
        if active_at is not None:
            mine = [
                i
                for i in mine
                if (i.active_from is None or i.active_from <= active_at)
                and (i.active_until is None or i.active_until > active_at)
            ]
        return mine[offset : offset + limit], len(mine)

    async def update(self, item: CatalogItem) -> None:
        current = self._t.catalog.get((item.tenant_id, item.key))
        if current is not None:  # UPDATE … WHERE: the redeemed count is the table's, not the caller's
            self._check(item)
            self._t.catalog[(item.tenant_id, item.key)] = replace(item, redeemed=current.redeemed)

    async def take_one(self, tenant_id: str, key: str) -> tuple[bool, int | None]:
        item = self._t.catalog.get((tenant_id, key))
        if item is None or (item.stock is not None and item.stock <= 0):
            return False, 0
        stock = item.stock - 1 if item.stock is not None else None
        self._t.catalog[(tenant_id, key)] = replace(item, stock=stock, redeemed=item.redeemed + 1)
        return True, stock

    async def redeemed_by(self, tenant_id: str, account_id: str, key: str) -> int:
        return sum(
            1
            for r in self._t.catalog_redemptions
            if (r.tenant_id, r.account_id, r.item_key) == (tenant_id, account_id, key)
        )

    async def record(self, redemption: ItemRedemptionRecord) -> None:
        if any(r.id == redemption.id for r in self._t.catalog_redemptions):
            raise Violation("catalog_redemptions primary key")
        self._t.catalog_redemptions.append(redemption)

    @staticmethod
    def _check(item: CatalogItem) -> None:
        if item.stock is not None and item.stock < 0:
            raise Violation("catalog_stock_not_negative")
