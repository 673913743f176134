"""DTOs of the reward catalogue: items (admin writes, customers browse) and their redemption."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StrictInt, model_validator
from pydantic.json_schema import SkipJsonSchema

from tangible_rewards.entrypoints.schemas.accounts import BurnRead
from tangible_rewards.entrypoints.schemas.amounts import PositiveAmount
from tangible_rewards.entrypoints.schemas.rules import Strict
from tangible_runtime.paging import Page

Key = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", examples=["team-training"])
UnitField = Field(default="credits", pattern=r"^[a-z][a-z0-9_-]{0,31}$", description="Credit unit paid in.")
Stock = Field(default=None, ge=0, le=1_000_000_000, description="Left to redeem; null: unlimited.")
Limit = Field(default=None, ge=1, le=1_000_000, description="Per account, ever; null: unlimited.")


class _Window(Strict):
    @model_validator(mode="after")
    def _ordered(self) -> _Window:
        start, end = getattr(self, "active_from", None), getattr(self, "active_until", None)
        if start is not None and end is not None and end <= start:
            raise ValueError("active_until must be after active_from")
        return self


class CatalogItemCreate(_Window):
    key: str = Key
    name: str = Field(min_length=1, max_length=256)
    description: str | None = Field(default=None, max_length=2000)
    price: PositiveAmount = Field(description="In credits, e.g. '250.00'.")
    unit: str = UnitField
    stock: StrictInt | None = Stock
    per_account_limit: StrictInt | None = Limit
    active_from: AwareDatetime | None = Field(default=None, description="Redeemable from (inclusive).")
    active_until: AwareDatetime | None = Field(default=None, description="Redeemable until (exclusive).")


class CatalogItemPatch(_Window):
    """Only the fields sent change; null clears an optional one (stock null: unlimited)."""

    # null is not offered where it is refused (an item keeps a name and a price)
    name: Annotated[str, Field(min_length=1, max_length=256)] | SkipJsonSchema[None] = None
    description: str | None = Field(default=None, max_length=2000)
    price: PositiveAmount | SkipJsonSchema[None] = None
    stock: StrictInt | None = Stock
    per_account_limit: StrictInt | None = Limit
    active_from: AwareDatetime | None = None
    active_until: AwareDatetime | None = None


class CatalogItemRead(BaseModel):
    key: str
    name: str
    description: str | None
    price: Decimal
    unit: str
    stock: int | None = Field(description="Left to redeem; null: unlimited.")
    per_account_limit: int | None
    active_from: datetime | None
    active_until: datetime | None
    availability: str = Field(description="available, not_yet_active, ended or out_of_stock (now)")
    redeemed: int = Field(description="How many were redeemed, all accounts.")
    created_at: datetime
    updated_at: datetime


class CatalogItemList(Page[CatalogItemRead]): ...


class ItemRedemptionRead(BaseModel):
    redemption_id: str
    transaction_id: str
    account_id: str
    item_key: str
    item_name: str
    amount: Decimal = Field(description="The item's price, paid.")
    unit: str
    balance_after: Decimal
    remaining_stock: int | None
    burned: list[BurnRead]
    created_at: datetime
