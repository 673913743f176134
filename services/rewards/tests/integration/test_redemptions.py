"""Redemptions: concurrency never overspends; the Idempotency-Key cases; balances stay honest."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.testing import eventually
from tangible_schemas.rewards import CreditsRedeemed

pytestmark = pytest.mark.integration

ACCOUNT = "acct-spend"


async def top_up(
    client: httpx.AsyncClient, admin: dict[str, str], amount: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/accounts/{ACCOUNT}/adjustments",
        json={"amount": amount, "reason": "welcome", **extra},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def redeem(client: httpx.AsyncClient, admin: dict[str, str], key: str, amount: str) -> httpx.Response:
    return await client.post(
        f"/v1/accounts/{ACCOUNT}/redemptions",
        json={"amount": amount, "description": "Training voucher"},
        headers={**admin, "Idempotency-Key": key},
    )


async def test_two_concurrent_redemptions_against_a_balance_covering_one_exactly_one_succeeds(
    launch: Any, admin: dict[str, str], db: Any
) -> None:
    first, second = await launch(roles=("api",)), await launch(roles=("api",))
    await top_up(first, admin, "100.00")
    for round_ in range(5):  # several rounds: the race is real each time
        results = await asyncio.gather(
            redeem(first, admin, f"a-{round_}", "60.00"), redeem(second, admin, f"b-{round_}", "60.00")
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [201, 422], [r.text for r in results]
        [won] = [r for r in results if r.status_code == 201]
        assert won.json()["balance_after"] == "40.00"
        await top_up(first, admin, "60.00")
    balance = await first.get(f"/v1/accounts/{ACCOUNT}/balance", headers=admin)
    assert balance.json()["total"] == "100.00"
    assert await db.scalar("SELECT min(balance) FROM account_balances") >= 0


async def test_same_key_same_body_replays_different_body_conflicts_insufficient_is_422(
    rewards: httpx.AsyncClient, admin: dict[str, str], kafka: Any
) -> None:
    await top_up(rewards, admin, "50.00")
    first = await redeem(rewards, admin, "order-1", "30")
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["amount"], body["balance_after"]) == ("30.00", "20.00")

    replay = await redeem(rewards, admin, "order-1", "30.00")  # the same amount, written differently
    assert replay.status_code == 201 and replay.json() == body
    assert replay.headers["idempotent-replayed"] == "true"

    conflict = await redeem(rewards, admin, "order-1", "31")
    assert conflict.status_code == 409 and conflict.json()["type"].endswith("idempotency-key-reused")

    too_much = await redeem(rewards, admin, "order-2", "25")
    assert too_much.status_code == 422, too_much.text
    assert too_much.json()["type"].endswith("insufficient-credits") and too_much.json()["balance"] == "20.00"
    await top_up(rewards, admin, "10.00")
    again = await redeem(rewards, admin, "order-2", "25")
    assert again.status_code == 422 and again.headers["idempotent-replayed"] == "true", (
        "the outcome is stored"
    )
    assert (await redeem(rewards, admin, "order-3", "25")).status_code == 201

    missing = await rewards.post(f"/v1/accounts/{ACCOUNT}/redemptions", json={"amount": "1"}, headers=admin)
    assert missing.status_code == 400
    assert (await redeem(rewards, admin, "order-4", "0")).status_code == 422

    async def redeemed_events() -> None:
        events = await kafka.rewards_events(CreditsRedeemed.event_type)
        assert [str(e.amount) for e in events] == ["30.00", "25.00"]

    await eventually(redeemed_events, timeout=15)


async def test_concurrent_requests_with_one_key_spend_once(
    launch: Any, admin: dict[str, str], db: Any
) -> None:
    first, second = await launch(roles=("api",)), await launch(roles=("api",))
    await top_up(first, admin, "100.00")
    results = await asyncio.gather(
        *(redeem(c, admin, "same-key", "10") for c in (first, second, first, second))
    )
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["redemption_id"] for r in results}) == 1
    assert await db.scalar("SELECT count(*) FROM ledger_transactions WHERE kind = 'redemption'") == 1


async def test_burn_order_is_visible_in_the_ledger_with_provenance(
    rewards: httpx.AsyncClient, admin: dict[str, str], issue_token: IssueToken, tenant_id: str
) -> None:
    await top_up(rewards, admin, "10.00")  # never expires
    await top_up(rewards, admin, "10.00", expires_at="2027-01-01T00:00:00Z")
    await top_up(rewards, admin, "10.00", expires_at="2026-12-15T00:00:00Z")
    await top_up(rewards, admin, "10.00", expires_at="2027-06-01T00:00:00Z", priority=-1)
    spent = await redeem(rewards, admin, "burn", "25")
    burned = [(b["amount"], b["expires_at"]) for b in spent.json()["burned"]]
    assert burned == [
        ("10.00", "2027-06-01T00:00:00Z"),
        ("10.00", "2026-12-15T00:00:00Z"),
        ("5.00", "2027-01-01T00:00:00Z"),
    ]
    customer = {"Authorization": f"Bearer {issue_token(tenant_id, 'read', account_id=ACCOUNT)}"}
    balance = (await rewards.get(f"/v1/accounts/{ACCOUNT}/balance", headers=customer)).json()
    assert balance == {
        "account_id": ACCOUNT,
        "unit": "credits",
        "total": "15.00",
        "buckets": [
            {"amount": "5.00", "expires_at": "2027-01-01T00:00:00Z"},
            {"amount": "10.00", "expires_at": None},
        ],
    }
    ledger = (
        await rewards.get(f"/v1/accounts/{ACCOUNT}/ledger", params={"limit": 3}, headers=customer)
    ).json()
    assert ledger["total"] == 7 and len(ledger["entries"]) == 3
    newest = ledger["entries"][0]
    assert newest["kind"] == "redemption" and newest["amount"] == "-5.00"
    assert newest["provenance"]["idempotency_key"] == "burn" and newest["provenance"]["redemption_id"]
    oldest = (
        await rewards.get(f"/v1/accounts/{ACCOUNT}/ledger", params={"offset": 6}, headers=customer)
    ).json()
    assert oldest["entries"][0]["provenance"] == {
        "type": "adjustment",
        "actor": oldest["entries"][0]["provenance"]["actor"],
        "reason": "welcome",
    }
    assert (await rewards.get("/v1/accounts/someone-else/balance", headers=customer)).status_code == 403
    assert (await redeem(rewards, customer, "k", "1")).status_code == 403


async def test_negative_adjustments_burn_and_cannot_overdraw(
    rewards: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await top_up(rewards, admin, "10.00")
    taken = await top_up(rewards, admin, "-4.00")
    assert (taken["amount"], taken["balance_after"]) == ("-4.00", "6.00")
    refused = await rewards.post(
        f"/v1/accounts/{ACCOUNT}/adjustments", json={"amount": "-7", "reason": "oops"}, headers=admin
    )
    assert refused.status_code == 422
