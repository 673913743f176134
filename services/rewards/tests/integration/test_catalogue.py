"""The reward catalogue over HTTP on PostgreSQL: who may browse and buy, idempotency, and no
oversell when many accounts race for the last items."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.testing import eventually
from tangible_runtime.auth import TokenIssuer
from tangible_runtime.domain import ManualClock
from tangible_schemas.rewards import CreditsRedeemed, ItemRedeemed

pytestmark = pytest.mark.integration

ACCOUNT = "acct-shop"
HOODIE = {"key": "hoodie", "name": "Team hoodie", "description": "Size M", "price": "40", "stock": 3}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def top_up(client: httpx.AsyncClient, admin: dict[str, str], account: str, amount: str) -> None:
    response = await client.post(
        f"/v1/accounts/{account}/adjustments", json={"amount": amount, "reason": "welcome"}, headers=admin
    )
    assert response.status_code == 201, response.text


async def buy(
    client: httpx.AsyncClient, headers: dict[str, str], key: str, idempotency_key: str, account: str = ACCOUNT
) -> httpx.Response:
    return await client.post(
        f"/v1/accounts/{account}/catalog/items/{key}/redeem",
        headers={**headers, "Idempotency-Key": idempotency_key},
    )


async def test_admins_define_items_customers_browse_and_a_redeem_token_buys(
    rewards: httpx.AsyncClient,
    admin: dict[str, str],
    token_issuer: TokenIssuer,
    issue_token: IssueToken,
    tenant_id: str,
    kafka: Any,
    clock: ManualClock,
    db: Any,
) -> None:
    created = await rewards.post("/v1/catalog/items", json=HOODIE, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["availability"] == "available" and created.json()["price"] == "40.00"
    assert (await rewards.post("/v1/catalog/items", json=HOODIE, headers=admin)).status_code == 409
    later = {
        "key": "later",
        "name": "Later",
        "price": "1",
        "active_from": (clock.now() + timedelta(days=2)).isoformat(),
    }
    assert (await rewards.post("/v1/catalog/items", json=later, headers=admin)).status_code == 201
    await top_up(rewards, admin, ACCOUNT, "100")

    portal = token_issuer.issue_portal(tenant_id=tenant_id, account_id=ACCOUNT, user_id="u-7")
    redeemer = token_issuer.issue_portal(
        tenant_id=tenant_id, account_id=ACCOUNT, user_id="u-7", permissions=["redeem"]
    )
    browse = await rewards.get("/v1/catalog/items", headers=bearer(portal.token))
    assert [i["key"] for i in browse.json()["items"]] == ["hoodie"]  # customers see what is active
    everything = await rewards.get("/v1/catalog/items", headers=admin)
    assert [i["key"] for i in everything.json()["items"]] == ["hoodie", "later"]
    one = await rewards.get("/v1/catalog/items/hoodie", headers=bearer(portal.token))
    assert one.status_code == 200 and one.json()["stock"] == 3
    assert (await rewards.get("/v1/catalog/items/nope", headers=admin)).status_code == 404

    for token in (
        portal.token,  # a portal token without the permission
        issue_token(tenant_id, "read"),
        issue_token(tenant_id, "read", account_id=ACCOUNT),
    ):
        refused = await buy(rewards, bearer(token), "hoodie", "k-refused")
        assert refused.status_code == 403, refused.text
    other = token_issuer.issue_portal(tenant_id=tenant_id, account_id="acct-other", permissions=["redeem"])
    assert (await buy(rewards, bearer(other.token), "hoodie", "k-other")).status_code == 403
    assert (await buy(rewards, bearer(redeemer.token), "hoodie", "")).status_code == 400
    patch = await rewards.patch("/v1/catalog/items/hoodie", json={"stock": 5}, headers=bearer(redeemer.token))
    assert patch.status_code == 403

    bought = await buy(rewards, bearer(redeemer.token), "hoodie", "k1")
    assert bought.status_code == 201, bought.text
    body = bought.json()
    assert (body["item_key"], body["amount"], body["balance_after"], body["remaining_stock"]) == (
        "hoodie",
        "40.00",
        "60.00",
        2,
    )
    replay = await buy(rewards, bearer(redeemer.token), "hoodie", "k1")
    assert replay.json() == body and replay.headers["idempotent-replayed"] == "true"
    reused = await buy(rewards, bearer(redeemer.token), "later", "k1")
    assert reused.status_code == 409 and reused.json()["type"].endswith("idempotency-key-reused")
    not_yet = await buy(rewards, bearer(redeemer.token), "later", "k2")
    assert not_yet.status_code == 409 and not_yet.json()["type"].endswith("item-not-available")
    by_admin = await buy(rewards, admin, "hoodie", "k3")
    assert by_admin.status_code == 201 and by_admin.json()["balance_after"] == "20.00"
    poor = await buy(rewards, bearer(redeemer.token), "hoodie", "k4")
    assert poor.status_code == 422 and poor.json()["type"].endswith("insufficient-credits"), poor.text
    assert poor.headers["content-type"].startswith("application/problem+json")

    limited = await rewards.patch(
        "/v1/catalog/items/hoodie", json={"per_account_limit": 2, "price": "1"}, headers=admin
    )
    assert limited.status_code == 200 and limited.json()["redeemed"] == 2, limited.text
    over = await buy(rewards, bearer(redeemer.token), "hoodie", "k5")
    assert over.status_code == 409 and over.json()["type"].endswith("item-limit-reached"), over.text
    cleared = await rewards.patch("/v1/catalog/items/hoodie", json={"name": None}, headers=admin)
    assert cleared.status_code == 422

    async def published() -> None:
        fulfil = [e for e in await kafka.rewards_events(ItemRedeemed.event_type) if e.tenant_id == tenant_id]
        assert [(e.account_id, e.item_key, e.redeemed_by) for e in fulfil if isinstance(e, ItemRedeemed)] == [
            (ACCOUNT, "hoodie", "u-7"),
            (ACCOUNT, "hoodie", None),
        ]
        spent = [
            e for e in await kafka.rewards_events(CreditsRedeemed.event_type) if e.tenant_id == tenant_id
        ]
        assert [e.item_key for e in spent if isinstance(e, CreditsRedeemed)] == ["hoodie", "hoodie"]

    await eventually(published, timeout=15)
    entries = await db.rows(
        "SELECT provenance->>'item_key' FROM ledger_transactions WHERE kind = 'redemption'"
    )
    assert [e[0] for e in entries] == ["hoodie", "hoodie"]


async def test_concurrent_redemptions_never_sell_more_than_the_stock(
    launch: Any, admin: dict[str, str], db: Any
) -> None:
    replicas = [await launch(roles=("api",)) for _ in range(2)]
    first = replicas[0]
    item = {"key": "last-ones", "name": "Last ones", "price": "10", "stock": 3, "per_account_limit": 2}
    assert (await first.post("/v1/catalog/items", json=item, headers=admin)).status_code == 201
    accounts = [f"acct-race-{n}" for n in range(6)]
    for account in accounts:
        await top_up(first, admin, account, "100")

    # 6 accounts × 2 attempts each, on two replicas at once, for 3 items: each account's
    # second attempt also races its first (the per-account limit is 2, so only stock refuses)
    results = await asyncio.gather(
        *(
            buy(replicas[n % 2], admin, "last-ones", f"race-{account}-{n}", account=account)
            for account in accounts
            for n in range(2)
        )
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] * 3 + [409] * 9, [r.text for r in results]
    assert all(r.json()["type"].endswith("item-out-of-stock") for r in results if r.status_code == 409)
    read = await first.get("/v1/catalog/items/last-ones", headers=admin)
    assert (read.json()["stock"], read.json()["redeemed"]) == (0, 3)
    assert await db.scalar("SELECT count(*) FROM catalog_redemptions") == 3
    assert await db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'redemption'") == 3


async def test_the_per_account_limit_holds_under_concurrency(
    launch: Any, admin: dict[str, str], db: Any
) -> None:
    replicas = [await launch(roles=("api",)) for _ in range(2)]
    item = {"key": "one-each", "name": "One each", "price": "1", "per_account_limit": 1}
    assert (await replicas[0].post("/v1/catalog/items", json=item, headers=admin)).status_code == 201
    await top_up(replicas[0], admin, ACCOUNT, "100")
    results = await asyncio.gather(*(buy(replicas[n % 2], admin, "one-each", f"limit-{n}") for n in range(6)))
    assert sorted(r.status_code for r in results) == [201] + [409] * 5, [r.text for r in results]
    assert await db.scalar("SELECT count(*) FROM catalog_redemptions") == 1
