"""The reward catalogue: admins define items; an account buys one with its credits.

A purchase locks the item's row first, then the account's balance row (the lock order every
writer of both keeps): concurrent purchases of one item serialise on it, so its stock and the
per-account limit are read and changed by one transaction at a time; the stock decrement is
conditional as well (and the database's CHECK refuses a negative stock).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from tangible_rewards.domain import commands
from tangible_rewards.domain.catalogue import CatalogItem
from tangible_rewards.domain.errors import (
    CatalogItemExists,
    CatalogItemNotFound,
    InsufficientCredits,
    ItemOutOfStock,
)
from tangible_rewards.domain.ledger import Burn, TransactionBuilder, TransactionKind, plan_burn
from tangible_rewards.service_layer import translate
from tangible_rewards.service_layer.handlers.ledger import Outcome, claim_or_replay
from tangible_rewards.service_layer.ports import UnitOfWork
from tangible_rewards.service_layer.reads import ItemRedemptionRecord
from tangible_runtime.domain import Clock, DomainError


@dataclass(frozen=True)
class ItemRedemption:
    id: str
    transaction_id: str
    account_id: str
    item: CatalogItem
    balance_after: Decimal
    burns: tuple[Burn, ...]
    remaining_stock: int | None
    created_at: datetime


RenderItem = Callable[[ItemRedemption | DomainError], tuple[int, dict[str, Any]]]


async def create_item(command: commands.CreateCatalogItem, *, uow: UnitOfWork, clock: Clock) -> CatalogItem:
    async with uow:
        now = clock.now()
        item = replace(command.item, tenant_id=command.tenant_id, redeemed=0, created_at=now, updated_at=now)
        if not await uow.catalog.add(item):
            raise CatalogItemExists(f"the catalogue already has an item '{item.key}'")
        await uow.commit()
    return item


async def update_item(command: commands.UpdateCatalogItem, *, uow: UnitOfWork, clock: Clock) -> CatalogItem:
    async with uow:
        item = await uow.catalog.get(command.tenant_id, command.key, lock=True)
        if item is None:
            raise CatalogItemNotFound(f"no catalogue item '{command.key}'")
        revised = item.revised(dict(command.changes), clock.now())
        await uow.catalog.update(revised)
        await uow.commit()
    return revised


async def redeem_item(
    command: commands.RedeemItem, *, uow: UnitOfWork, clock: Clock, render: RenderItem
) -> Outcome:
    """Like a redemption (same Idempotency-Key rules; refusals are stored and replayed too),
    at the item's price, within its window, stock and per-account limit."""
    c = command
    async with uow:
        now = clock.now()
        replay = await claim_or_replay(uow, c.tenant_id, c.account_id, c.idempotency_key, c.request_hash, now)
        if replay is not None:
            return replay
        item = await uow.catalog.get(c.tenant_id, c.item_key, lock=True)
        if item is None:  # raised: rolls the key's claim back, a later retry may succeed
            raise CatalogItemNotFound(f"no catalogue item '{c.item_key}'")
        key = (c.tenant_id, c.account_id, item.unit)
        refusal = item.refusal(now, await uow.catalog.redeemed_by(c.tenant_id, c.account_id, item.key))
        burns: list[Burn] = []
        if refusal is None:
            await uow.ledger.lock_balance(key)
            try:
                burns = plan_burn(await uow.ledger.open_buckets(key), item.price, now)
            except InsufficientCredits as insufficient:
                refusal = insufficient
        if refusal is None:
            taken, remaining = await uow.catalog.take_one(c.tenant_id, item.key)
            if not taken:  # only if a writer ignored the item lock; never sell what is not there
                refusal = ItemOutOfStock(f"'{item.key}' is out of stock", item_key=item.key)
        if refusal is not None:
            return await _refuse(uow, c, render(refusal))
        redemption_id, txn_id = str(uuid.uuid4()), str(uuid.uuid4())
        provenance = {
            "redemption_id": redemption_id,
            "idempotency_key": c.idempotency_key,
            "item_key": item.key,
            "item_name": item.name,
            "actor": c.actor,
            "user_id": c.user_id,
        }
        transaction = TransactionBuilder(*key, provenance).debit(txn_id, TransactionKind.REDEMPTION, burns)
        await uow.ledger.post([transaction], [], now)
        balance = (await uow.ledger.balances([key]))[key]
        await uow.catalog.record(
            ItemRedemptionRecord(
                redemption_id,
                c.tenant_id,
                c.account_id,
                item.key,
                item.price,
                item.unit,
                txn_id,
                c.idempotency_key,
                c.actor,
                c.user_id,
                now,
            )
        )
        redemption = ItemRedemption(
            redemption_id, txn_id, c.account_id, item, balance, tuple(burns), remaining, now
        )
        status, body = render(redemption)
        await uow.idempotency.store(c.tenant_id, c.account_id, c.idempotency_key, status, body)
        uow.outbox.add(
            translate.credits_redeemed(key, redemption_id, item.price, balance, item.name, item_key=item.key),
            time=now,
        )
        uow.outbox.add(
            translate.item_redeemed(key, redemption_id, item, balance, remaining, c.user_id), time=now
        )
        await uow.commit()
    return Outcome(status, body)


async def _refuse(uow: UnitOfWork, c: commands.RedeemItem, rendered: tuple[int, dict[str, Any]]) -> Outcome:
    status, body = rendered
    await uow.idempotency.store(c.tenant_id, c.account_id, c.idempotency_key, status, body)
    await uow.commit()
    return Outcome(status, body)
