"""The reward catalogue through its handlers: an item is bought at its price within its window,
stock and per-account limit; refusals are stored under the Idempotency-Key like redemptions'."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.rewards.tests.unit.harness import ACCOUNT, TENANT, Harness
from tangible_rewards.domain import commands
from tangible_rewards.domain.catalogue import Availability, CatalogItem
from tangible_rewards.domain.errors import (
    CatalogItemExists,
    CatalogItemNotFound,
    IdempotencyKeyReused,
    InvalidCatalogItem,
)
from tangible_rewards.service_layer import handlers, views
from tangible_rewards.service_layer.handlers.catalogue import ItemRedemption
from tangible_rewards.service_layer.handlers.ledger import Outcome
from tangible_runtime.domain import DomainError
from tangible_schemas.rewards import CreditsRedeemed, ItemRedeemed


def render(result: ItemRedemption | DomainError) -> tuple[int, dict[str, Any]]:
    if isinstance(result, DomainError):
        return (422 if result.code == "insufficient-credits" else 409), {"type": result.code}
    return 201, {"redemption_id": result.id, "balance_after": str(result.balance_after)}


async def add_item(harness: Harness, key: str = "hoodie", **options: Any) -> CatalogItem:
    item = CatalogItem(
        TENANT, key, options.pop("name", key.title()), Decimal(options.pop("price", "40")), **options
    )
    return await handlers.create_item(
        commands.CreateCatalogItem(TENANT, item), uow=harness.uow, clock=harness.clock
    )


async def top_up(harness: Harness, amount: str, account: str = ACCOUNT) -> None:
    command = commands.Adjust(TENANT, account, Decimal(amount), "credits", "admin", "welcome")
    await handlers.adjust(command, uow=harness.uow, clock=harness.clock)


async def buy(harness: Harness, key: str, idempotency_key: str, account: str = ACCOUNT) -> Outcome:
    command = commands.RedeemItem(
        TENANT, account, key, idempotency_key, f"{account}/{key}", "portal-1", "u-7"
    )
    return await handlers.redeem_item(command, uow=harness.uow, clock=harness.clock, render=render)


async def item(harness: Harness, key: str) -> CatalogItem:
    found = await views.catalog_item(harness.uow, tenant_id=TENANT, key=key)
    assert found is not None
    return found


async def test_buying_pays_the_price_takes_one_from_stock_and_publishes_for_fulfilment(
    harness: Harness,
) -> None:
    await add_item(harness, "hoodie", price="40", stock=2, description="Size M")
    await top_up(harness, "100")

    outcome = await buy(harness, "hoodie", "k1")

    assert outcome.status_code == 201 and outcome.body["balance_after"] == "60.00"
    assert (await item(harness, "hoodie")).stock == 1
    [fulfil] = harness.events(ItemRedeemed)
    assert (fulfil.item_key, fulfil.item_name, fulfil.price, fulfil.balance_after) == (
        "hoodie",
        "Hoodie",
        Decimal("40.00"),
        Decimal("60.00"),
    )
    assert (fulfil.account_id, fulfil.redeemed_by, fulfil.remaining_stock) == (ACCOUNT, "u-7", 1)
    [spent] = harness.events(CreditsRedeemed)
    assert spent.item_key == "hoodie" and spent.redemption_id == fulfil.redemption_id


async def test_the_same_key_replays_without_buying_again_another_item_under_it_conflicts(
    harness: Harness,
) -> None:
    await add_item(harness, "hoodie", stock=5)
    await add_item(harness, "mug", price="10")
    await top_up(harness, "100")
    first = await buy(harness, "hoodie", "k1")
    again = await buy(harness, "hoodie", "k1")
    assert again.replayed and again.body == first.body
    assert (await item(harness, "hoodie")).stock == 4 and len(harness.events(ItemRedeemed)) == 1
    with pytest.raises(IdempotencyKeyReused):
        await buy(harness, "mug", "k1")


async def test_refusals_have_their_own_types_and_are_replayed(harness: Harness) -> None:
    now = harness.clock.now()
    await add_item(harness, "sold-out", stock=0)
    await add_item(harness, "later", active_from=now + timedelta(days=1))
    await add_item(harness, "over", active_until=now)
    await add_item(harness, "once", per_account_limit=1)
    await add_item(harness, "pricey", price="1000")
    await top_up(harness, "200")

    assert (await buy(harness, "sold-out", "a")).body == {"type": "item-out-of-stock"}
    assert (await buy(harness, "later", "b")).body == {"type": "item-not-available"}
    assert (await buy(harness, "over", "c")).body == {"type": "item-not-available"}
    assert (await buy(harness, "once", "d")).status_code == 201
    assert (await buy(harness, "once", "e")).body == {"type": "item-limit-reached"}
    assert (await buy(harness, "once", "d")).status_code == 201  # a replay is not a second one
    assert (await buy(harness, "once", "x", account="a2")).body == {"type": "insufficient-credits"}
    refused = await buy(harness, "pricey", "f")
    assert (refused.status_code, refused.body) == (422, {"type": "insufficient-credits"})
    await top_up(harness, "2000")
    replayed = await buy(harness, "pricey", "f")
    assert replayed.replayed and replayed.status_code == 422  # as for redemptions: the first outcome

    harness.clock.advance(timedelta(days=1))
    assert (await buy(harness, "later", "g")).status_code == 201
    assert len(harness.events(ItemRedeemed)) == 2


async def test_an_unknown_item_is_not_found_and_leaves_the_key_free(harness: Harness) -> None:
    await top_up(harness, "100")
    with pytest.raises(CatalogItemNotFound):
        await buy(harness, "ghost", "k1")
    await add_item(harness, "ghost")
    assert (await buy(harness, "ghost", "k1")).status_code == 201


async def test_admins_restock_reprice_and_move_the_window(harness: Harness) -> None:
    await add_item(harness, "hoodie", stock=1)
    with pytest.raises(CatalogItemExists):
        await add_item(harness, "hoodie")
    await top_up(harness, "100")
    await buy(harness, "hoodie", "k1")
    assert (await item(harness, "hoodie")).availability(harness.clock.now()) is Availability.OUT_OF_STOCK

    update = commands.UpdateCatalogItem(TENANT, "hoodie", {"stock": 3, "price": Decimal("5")})
    revised = await handlers.update_item(update, uow=harness.uow, clock=harness.clock)
    assert (revised.stock, revised.price, (await item(harness, "hoodie")).redeemed) == (3, Decimal(5), 1)
    assert (await buy(harness, "hoodie", "k2")).body["balance_after"] == "55.00"

    until = harness.clock.now()
    bad = commands.UpdateCatalogItem(TENANT, "hoodie", {"active_from": until, "active_until": until})
    with pytest.raises(InvalidCatalogItem):
        await handlers.update_item(bad, uow=harness.uow, clock=harness.clock)
    with pytest.raises(CatalogItemNotFound):
        await handlers.update_item(
            commands.UpdateCatalogItem(TENANT, "ghost", {"stock": 1}), uow=harness.uow, clock=harness.clock
        )
    page, total = await views.catalog_page(
        harness.uow, tenant_id=TENANT, active_at=harness.clock.now(), limit=10, offset=0
    )
    assert ([i.key for i in page], total) == (["hoodie"], 1)
