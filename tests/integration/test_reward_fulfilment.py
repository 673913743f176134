"""Fulfilment of a catalogue redemption: the customer redeems an item with a portal token its
vendor minted with `redeem`; the vendor's notification rule on item_redeemed delivers a
Standard-Webhooks-signed request to the vendor's receiver naming the item and the account."""

from __future__ import annotations

import json
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.testing import eventually

pytestmark = pytest.mark.integration

ITEM_REDEEMED = "tangible.rewards.v1.item_redeemed"
ACCOUNT = "acct-fulfil"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_redeemed_item_reaches_the_vendors_webhook_signed(
    start_system: Any,
    notifications_overrides: dict[str, Any],
    webhook_receiver: Any,
    issue_token: IssueToken,
    tenant_id: str,
) -> None:
    system = await start_system(overrides={"notifications": notifications_overrides})
    admin = bearer(issue_token(tenant_id, "admin"))
    e, r, n = system.entitlements, system.rewards, system.notifications

    channel = await n.post(
        "/v1/channels",
        json={"kind": "webhook", "name": "Fulfilment", "url": f"{webhook_receiver.url}/fulfil"},
        headers=admin,
    )
    assert channel.status_code == 201, channel.text
    rule = await n.post(
        "/v1/rules",
        json={"name": "Ship what was redeemed", "event_types": [ITEM_REDEEMED], "channels": ["webhook"]},
        headers=admin,
    )
    assert rule.status_code == 201, rule.text
    item = {"key": "team-training", "name": "Team training", "price": "250", "stock": 10}
    assert (await r.post("/v1/catalog/items", json=item, headers=admin)).status_code == 201
    top_up = await r.post(
        f"/v1/accounts/{ACCOUNT}/adjustments", json={"amount": "300", "reason": "welcome"}, headers=admin
    )
    assert top_up.status_code == 201, top_up.text
    minted = await e.post(
        "/v1/portal-tokens",
        json={"account_id": ACCOUNT, "user_id": "u-7", "permissions": ["redeem"]},
        headers=admin,
    )
    assert minted.status_code == 201, minted.text

    redeemed = await r.post(
        f"/v1/accounts/{ACCOUNT}/catalog/items/team-training/redeem",
        headers={**bearer(minted.json()["token"]), "Idempotency-Key": "order-1"},
    )
    assert redeemed.status_code == 201, redeemed.text

    async def delivered() -> tuple[dict[str, str], bytes]:
        found = [(h, b) for h, b in webhook_receiver.requests if json.loads(b)["type"] == ITEM_REDEEMED]
        assert found, webhook_receiver.requests
        return found[0]

    headers, body = await eventually(delivered, timeout=30)
    payload = Webhook(channel.json()["secret"]).verify(body, headers)  # raises unless signed
    assert payload["data"]["account_id"] == ACCOUNT
    assert payload["data"]["title"] == "You redeemed Team training"
    event = payload["data"]["event"]["data"]
    assert (event["item_key"], event["item_name"], event["price"], event["redeemed_by"]) == (
        "team-training",
        "Team training",
        "250.00",
        "u-7",
    )
    assert event["redemption_id"] == redeemed.json()["redemption_id"] and event["remaining_stock"] == 9
