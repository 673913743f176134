"""The reward catalogue: items an account may buy with its credits, and when it may not."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tangible_rewards.domain.errors import (
    InvalidCatalogItem,
    ItemLimitReached,
    ItemNotAvailable,
    ItemOutOfStock,
)
from tangible_rewards.domain.ledger import ZERO, money
from tangible_runtime.domain import DomainError


class Availability(StrEnum):
    AVAILABLE = "available"
    NOT_YET_ACTIVE = "not_yet_active"
    ENDED = "ended"
    OUT_OF_STOCK = "out_of_stock"


@dataclass(frozen=True)
class CatalogItem:
    tenant_id: str
    key: str
    name: str
    price: Decimal
    unit: str = "credits"
    description: str | None = None
    stock: int | None = None  # None: unlimited
    per_account_limit: int | None = None  # None: unlimited
    active_from: datetime | None = None
    active_until: datetime | None = None  # exclusive
    redeemed: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "price", money(self.price))  # two places, as the ledger keeps it
        if self.price <= ZERO:
            raise InvalidCatalogItem("price must be positive")
        if self.stock is not None and self.stock < 0:
            raise InvalidCatalogItem("stock cannot be negative")
        if self.per_account_limit is not None and self.per_account_limit < 1:
            raise InvalidCatalogItem("per_account_limit must be at least 1")
        if self.active_from and self.active_until and self.active_until <= self.active_from:
            raise InvalidCatalogItem("active_until must be after active_from")

    def availability(self, now: datetime) -> Availability:
        if self.active_from is not None and now < self.active_from:
            return Availability.NOT_YET_ACTIVE
        if self.active_until is not None and now >= self.active_until:
            return Availability.ENDED
        if self.stock is not None and self.stock <= 0:
            return Availability.OUT_OF_STOCK
        return Availability.AVAILABLE

    def refusal(self, now: datetime, redeemed_by_account: int) -> DomainError | None:
        """Why this account may not buy one now (balance aside), or None."""
        match self.availability(now):
            case Availability.NOT_YET_ACTIVE:
                return ItemNotAvailable(f"'{self.key}' is not available yet", item_key=self.key)
            case Availability.ENDED:
                return ItemNotAvailable(f"'{self.key}' is no longer available", item_key=self.key)
            case Availability.OUT_OF_STOCK:
                return ItemOutOfStock(f"'{self.key}' is out of stock", item_key=self.key)
        if self.per_account_limit is not None and redeemed_by_account >= self.per_account_limit:
            return ItemLimitReached(
                f"this account has redeemed '{self.key}' {redeemed_by_account} times, the limit",
                item_key=self.key,
                limit=self.per_account_limit,
            )
        return None

    def revised(self, changes: dict[str, Any], at: datetime) -> CatalogItem:
        """PATCH: the fields given (None clears an optional one); validated again."""
        return replace(self, **changes, updated_at=at)
