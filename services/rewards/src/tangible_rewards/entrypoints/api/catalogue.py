"""The reward catalogue: items admins define and customers browse, and buying one with credits.

Buying has its own route rather than a field on `POST …/redemptions`: that route is an admin's
(any amount, any description), while here a customer's portal token may spend — so the price
is the catalogue's, never the client's, and the item's window, stock and per-account limit
apply. Both share the account's Idempotency-Keys: a key used for one request cannot be used
for another (409).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from tangible_rewards.domain import commands
from tangible_rewards.domain.catalogue import CatalogItem
from tangible_rewards.domain.errors import CatalogItemNotFound, InvalidCatalogItem
from tangible_rewards.entrypoints.api.ledger import IDEMPOTENCY_KEY_DOC, PROBLEMS
from tangible_rewards.entrypoints.dependencies import ContainerDep
from tangible_rewards.entrypoints.schemas.accounts import BurnRead
from tangible_rewards.entrypoints.schemas.catalogue import (
    CatalogItemCreate,
    CatalogItemList,
    CatalogItemPatch,
    CatalogItemRead,
    ItemRedemptionRead,
)
from tangible_rewards.service_layer import handlers, views
from tangible_rewards.service_layer.handlers.catalogue import ItemRedemption
from tangible_runtime.app import AdminPrincipal, ReadPrincipal
from tangible_runtime.domain import DomainError
from tangible_runtime.paging import PagingDep
from tangible_runtime.problems import DOMAIN_STATUS, ProblemError

router = APIRouter(tags=["catalogue"])


def _read(item: CatalogItem, container: ContainerDep) -> CatalogItemRead:
    assert item.created_at is not None and item.updated_at is not None
    return CatalogItemRead(
        key=item.key,
        name=item.name,
        description=item.description,
        price=item.price,
        unit=item.unit,
        stock=item.stock,
        per_account_limit=item.per_account_limit,
        active_from=item.active_from,
        active_until=item.active_until,
        availability=item.availability(container.clock.now()).value,
        redeemed=item.redeemed,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


@router.post(
    "/v1/catalog/items",
    status_code=201,
    response_model=CatalogItemRead,
    summary="Add an item to the reward catalogue (admin)",
    responses={409: {"description": "An item with this key exists"}},
)
async def create_item(
    body: CatalogItemCreate, principal: AdminPrincipal, container: ContainerDep
) -> CatalogItemRead:
    item = CatalogItem(tenant_id=principal.tenant_id, **body.model_dump())
    created = await handlers.create_item(
        commands.CreateCatalogItem(principal.tenant_id, item), uow=container.new_uow(), clock=container.clock
    )
    return _read(created, container)


@router.get(
    "/v1/catalog/items",
    response_model=CatalogItemList,
    summary="The reward catalogue, by key (read: what customers may browse)",
    description="Admins see every item unless `active=true`; other credentials see the items "
    "inside their active window now (out-of-stock ones included, marked as such).",
)
async def list_items(
    principal: ReadPrincipal,
    container: ContainerDep,
    paging: PagingDep,
    active: Annotated[bool | None, Query(description="Only items inside their window now.")] = None,
) -> CatalogItemList:
    only_active = bool(active) or "admin" not in principal.scopes
    items, total = await views.catalog_page(
        container.new_uow(),
        tenant_id=principal.tenant_id,
        active_at=container.clock.now() if only_active else None,
        limit=paging.limit,
        offset=paging.offset,
    )
    return CatalogItemList(
        items=[_read(i, container) for i in items], total=total, limit=paging.limit, offset=paging.offset
    )


@router.get("/v1/catalog/items/{key}", response_model=CatalogItemRead, summary="One catalogue item (read)")
async def get_item(key: str, principal: ReadPrincipal, container: ContainerDep) -> CatalogItemRead:
    item = await views.catalog_item(container.new_uow(), tenant_id=principal.tenant_id, key=key)
    if item is None:
        raise CatalogItemNotFound(f"no catalogue item '{key}'")
    return _read(item, container)


@router.patch(
    "/v1/catalog/items/{key}",
    response_model=CatalogItemRead,
    summary="Change a catalogue item: restock, reprice, move its window (admin)",
)
async def patch_item(
    key: str, body: CatalogItemPatch, principal: AdminPrincipal, container: ContainerDep
) -> CatalogItemRead:
    changes = body.model_dump(exclude_unset=True)
    required = [name for name in ("name", "price") if name in changes and changes[name] is None]
    if required:
        raise InvalidCatalogItem(f"{required[0]} cannot be cleared")
    item = await handlers.update_item(
        commands.UpdateCatalogItem(principal.tenant_id, key, changes),
        uow=container.new_uow(),
        clock=container.clock,
    )
    return _read(item, container)


def _render(result: ItemRedemption | DomainError) -> tuple[int, dict[str, Any]]:
    """The response stored with the Idempotency-Key, replayed byte for byte."""
    if isinstance(result, DomainError):
        status = next(s for cls, s in DOMAIN_STATUS.items() if isinstance(result, cls))
        extras = {k: v for k, v in result.details.items() if isinstance(v, str | int)}
        return status, {"type": PROBLEMS + result.code, "title": result.message, "status": status, **extras}
    body = ItemRedemptionRead(
        redemption_id=result.id,
        transaction_id=result.transaction_id,
        account_id=result.account_id,
        item_key=result.item.key,
        item_name=result.item.name,
        amount=result.item.price,
        unit=result.item.unit,
        balance_after=result.balance_after,
        remaining_stock=result.remaining_stock,
        burned=[
            BurnRead(bucket_id=b.bucket.id, amount=b.amount, expires_at=b.bucket.expires_at)
            for b in result.burns
        ],
        created_at=result.created_at,
    )
    return 201, body.model_dump(mode="json")


def _request_hash(account_id: str, key: str) -> str:
    canonical = {"operation": "redeem_item", "account_id": account_id, "item_key": key}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@router.post(
    "/v1/accounts/{account_id}/catalog/items/{key}/redeem",
    status_code=201,
    response_model=ItemRedemptionRead,
    summary="Buy one catalogue item with the account's credits (admin, or a portal token with 'redeem')",
    description=(
        "Pays the item's price (burned like any redemption). Allowed for admin credentials, and for "
        "a portal token of this account that carries the `redeem` permission; other read "
        "credentials get 403. The same Idempotency-Key for the same item answers the first outcome "
        "again (header Idempotent-Replayed: true), refusals included; for another request it is a "
        "409. Refusals: 422 insufficient-credits; 409 item-not-available (outside its window), "
        "item-out-of-stock, item-limit-reached (the account's limit for it)."
    ),
    responses={
        400: {"description": "No Idempotency-Key header"},
        404: {"description": "No such item"},
        409: {"description": "Not available, out of stock, limit reached, or Idempotency-Key reused"},
        422: {"description": "Balance too low"},
    },
    openapi_extra={"parameters": [IDEMPOTENCY_KEY_DOC]},
)
async def redeem_item(
    account_id: str,
    key: str,
    principal: ReadPrincipal,
    container: ContainerDep,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=255, include_in_schema=False)
    ] = None,
) -> JSONResponse:
    principal.require_account(account_id)
    principal.require_permission("redeem")
    if not idempotency_key:
        raise ProblemError(400, "an Idempotency-Key header is required", type_="idempotency-key-missing")
    command = commands.RedeemItem(
        tenant_id=principal.tenant_id,
        account_id=account_id,
        item_key=key,
        idempotency_key=idempotency_key,
        request_hash=_request_hash(account_id, key),
        actor=principal.credential_id,
        user_id=principal.user_id,
    )
    outcome = await handlers.redeem_item(
        command, uow=container.new_uow(), clock=container.clock, render=_render
    )
    return JSONResponse(
        outcome.body,
        status_code=outcome.status_code,
        media_type="application/json" if outcome.status_code < 400 else "application/problem+json",
        headers={"Idempotent-Replayed": "true"} if outcome.replayed else None,
    )
