"""The in-app inbox (per user or account-wide, unread, pagination, read state, account-scoped
tokens) and the admin API's validation: templates, previews, rules, problems."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.testing import eventually
from tangible_runtime.auth import TokenIssuer
from tangible_schemas.entitlements import SeatAssigned

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def seat(tenant_id: str, user: str) -> SeatAssigned:
    return SeatAssigned(
        tenant_id=tenant_id, account_id="acct-1", license_id="lic-1", user_id=user, assigned=2, purchased=5
    )


async def page(api: httpx.AsyncClient, token: str, n: int, **params: Any) -> dict[str, Any]:
    response = await api.get("/v1/accounts/acct-1/inbox", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert len(body["items"]) == n, body
    return body


async def test_the_inbox_per_user_and_account_wide_with_read_state_and_account_tokens(
    crossed: Any, start: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    api = await start(roles=("api", "consumer", "relay", "delivery"))
    admin = bearer(issue_token(tenant_id, "admin"))
    rule = {
        "name": "seats and usage",
        "event_types": [
            "tangible.entitlements.v1.seat_assigned",
            "tangible.entitlements.v1.threshold_crossed",
        ],
        "channels": ["inbox"],
        "filters": {"feature_key": "reports"},
    }
    assert (await api.post("/v1/rules", json=rule, headers=admin)).status_code == 201
    await publish(crossed(tenant_id))
    await publish(crossed(tenant_id, feature="exports"))  # filtered out by the rule
    await publish(seat(tenant_id, "u-1"))
    await publish(seat(tenant_id, "u-2"))
    token = issue_token(tenant_id, "read", account_id="acct-1")

    everything = await eventually(lambda: page(api, token, 3), timeout=20)
    assert everything["unread_count"] == 3
    mine = await page(api, token, 2, user_id="u-1")  # u-1's own item and the account-wide one
    assert {i["user_id"] for i in mine["items"]} == {"u-1", None}
    assert (await page(api, token, 1, limit=1, offset=2))["items"][0]["id"] == everything["items"][2]["id"]

    item = mine["items"][0]["id"]
    marked = await api.put(
        f"/v1/accounts/acct-1/inbox/{item}/read", json={"read": True}, headers=bearer(token)
    )
    assert marked.status_code == 200 and marked.json() == {"read": True}
    assert (await page(api, token, 2, unread=True))["unread_count"] == 2
    count = await api.get(
        "/v1/accounts/acct-1/inbox/unread-count", params={"user_id": "u-1"}, headers=bearer(token)
    )
    assert count.json() == {"account_id": "acct-1", "user_id": "u-1", "unread": 1}
    await api.put(f"/v1/accounts/acct-1/inbox/{item}/read", json={"read": False}, headers=bearer(token))
    assert (await page(api, token, 3, unread=True))["unread_count"] == 3

    other = bearer(issue_token(tenant_id, "read", account_id="acct-2"))
    assert (await api.get("/v1/accounts/acct-1/inbox", headers=other)).status_code == 403
    stranger = bearer(issue_token("another-tenant", "read"))
    assert (await api.get("/v1/accounts/acct-1/inbox", headers=stranger)).json()["items"] == []
    missing = await api.put("/v1/accounts/acct-1/inbox/nope/read", json={"read": True}, headers=bearer(token))
    assert missing.status_code == 404
    assert (await api.get("/v1/deliveries", headers=bearer(token))).status_code == 403


async def test_portal_tokens_see_their_users_items_or_the_account_wide_ones_only(
    crossed: Any, start: Any, publish: Any, token_issuer: TokenIssuer, issue_token: IssueToken, tenant_id: str
) -> None:
    """A user's portal token: that user's items and the account-wide ones, never another
    user's (403 if it asks); an account's portal token: the account-wide items only (403 if it
    asks for a user's view)."""
    api = await start(roles=("api", "consumer", "relay", "delivery"))
    admin = bearer(issue_token(tenant_id, "admin"))
    rule = {
        "name": "seats and usage",
        "event_types": [
            "tangible.entitlements.v1.seat_assigned",
            "tangible.entitlements.v1.threshold_crossed",
        ],
        "channels": ["inbox"],
    }
    assert (await api.post("/v1/rules", json=rule, headers=admin)).status_code == 201
    await publish(crossed(tenant_id))
    await publish(seat(tenant_id, "u-1"))
    await publish(seat(tenant_id, "u-2"))
    everyone = issue_token(tenant_id, "read", account_id="acct-1")
    everything = await eventually(lambda: page(api, everyone, 3), timeout=20)
    by_user = {i["user_id"]: i["id"] for i in everything["items"]}
    assert set(by_user) == {"u-1", "u-2", None}

    u1 = token_issuer.issue_portal(tenant_id=tenant_id, account_id="acct-1", user_id="u-1").token
    mine = await page(api, u1, 2)
    assert {i["user_id"] for i in mine["items"]} == {"u-1", None} and mine["unread_count"] == 2
    assert {i["user_id"] for i in (await page(api, u1, 2, user_id="u-1"))["items"]} == {"u-1", None}
    theirs = await api.get("/v1/accounts/acct-1/inbox", params={"user_id": "u-2"}, headers=bearer(u1))
    assert theirs.status_code == 403
    count = await api.get("/v1/accounts/acct-1/inbox/unread-count", headers=bearer(u1))
    assert count.json()["unread"] == 2

    async def mark(token: str, user: str | None) -> int:
        path = f"/v1/accounts/acct-1/inbox/{by_user[user]}/read"
        response: httpx.Response = await api.put(path, json={"read": True}, headers=bearer(token))
        return response.status_code

    assert await mark(u1, "u-2") == 404  # another user's item: not theirs to see, nor to mark
    assert (await page(api, everyone, 3, unread=True))["unread_count"] == 3
    assert await mark(u1, "u-1") == 200
    assert (await page(api, everyone, 2, unread=True))["items"][0]["user_id"] != "u-1"

    account = token_issuer.issue_portal(tenant_id=tenant_id, account_id="acct-1").token
    wide = await page(api, account, 1)
    assert [i["user_id"] for i in wide["items"]] == [None] and wide["unread_count"] == 1
    for user in ("u-1", "u-2"):
        asked = await api.get("/v1/accounts/acct-1/inbox", params={"user_id": user}, headers=bearer(account))
        assert asked.status_code == 403
    assert await mark(account, "u-2") == 404  # a user's item: not the account token's to mark
    assert await mark(account, None) == 200
    assert {i["user_id"] for i in (await page(api, everyone, 1, unread=True))["items"]} == {"u-2"}


async def test_templates_preview_and_validation(start: Any, issue_token: IssueToken, tenant_id: str) -> None:
    api = await start(roles=("api",))
    admin = bearer(issue_token(tenant_id, "admin"))
    bad = {"title": "{{ data.feature_key ", "body": ""}
    response = await api.put(
        "/v1/templates/tangible.entitlements.v1.threshold_crossed/email", json=bad, headers=admin
    )
    assert response.status_code == 422 and response.json()["type"].endswith("invalid-template")

    template = {
        "title": "{{ data.feature_key | upper }} at {{ data.threshold_percent }} %",
        "body": "{{ impact.note }}",
    }
    stored = await api.put(
        "/v1/templates/tangible.entitlements.v1.threshold_crossed/email", json=template, headers=admin
    )
    assert stored.status_code == 200, stored.text
    listed = (await api.get("/v1/templates", headers=admin)).json()["items"]
    assert [t["event_type"] for t in listed] == ["tangible.entitlements.v1.threshold_crossed"]

    preview = await api.post(
        "/v1/templates/preview",
        json={"event_type": "tangible.entitlements.v1.threshold_crossed", "channel": "email"},
        headers=admin,
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["title"] == "REPORTS at 80 %"
    assert "1,240 reports" in preview.json()["body"]
    assert "<h1>REPORTS at 80 %</h1>" in preview.json()["html"]

    renewal = await api.post(
        "/v1/templates/preview",
        json={"event_type": "tangible.entitlements.v1.renewal_due_announced", "data": {"lead_days": 7}},
        headers=admin,
    )
    assert renewal.status_code == 422  # the default body names data.renewal_date, which this data lacks
    sandboxed = await api.post(
        "/v1/templates/preview",
        json={
            "event_type": "tangible.rewards.v1.reward_granted",
            "template": {"title": "{{ ''.__class__.__mro__[1].__subclasses__() }}"},
        },
        headers=admin,
    )
    assert sandboxed.status_code == 422
    unknown_channel = await api.put("/v1/templates/x/fax", json=template, headers=admin)
    assert unknown_channel.status_code == 404

    rule = await api.post(
        "/v1/rules",
        json={"name": "n", "event_types": ["tangible.x"], "channels": ["pigeon"], "priority": "urgent"},
        headers=admin,
    )
    assert rule.status_code == 422
    rules = await api.post(
        "/v1/rules",
        json={
            "name": "n",
            "event_types": ["tangible.entitlements.v1.*"],
            "channels": ["csm"],
            "priority": "high",
        },
        headers=admin,
    )
    assert rules.status_code == 201
    rule_id = rules.json()["id"]
    update = {
        "name": "n",
        "event_types": ["tangible.entitlements.v1.*"],
        "channels": ["inbox"],
        "enabled": False,
    }
    updated = await api.put(f"/v1/rules/{rule_id}", json=update, headers=admin)
    assert updated.status_code == 200 and updated.json()["enabled"] is False
    assert (await api.put("/v1/rules/missing", json=update, headers=admin)).status_code == 404
    assert (await api.get("/v1/rules", headers=bearer(issue_token(tenant_id, "read")))).status_code == 403
    no_key = await api.post(
        "/v1/channels",
        json={"kind": "webhook", "name": "w", "url": "https://example.com/hook"},
        headers=admin,
    )
    assert no_key.status_code in (201, 422)  # 422 only when example.com does not resolve here
