"""The demo's last step: the customer's view of one account, in the web components.

A portal token is minted through entitlements' HTTP API with the tenant's admin credential,
as a vendor's backend would (no signing key involved), for the account with the most to
show (rewards earned, then inbox items), and the demo page's URL carries it."""

from __future__ import annotations

import httpx

from tangible_demo.summary import AccountFacts, Summary
from tangible_devstack.elements import demo_url


def showcase(summary: Summary) -> AccountFacts | None:
    """An account whose page has every component filled (rewards and inbox items), then
    the one with the most to show."""
    return max(
        summary.accounts,
        key=lambda a: (bool(a.rewards) and a.inbox_total > 0, len(a.rewards), a.inbox_total, a.balance),
        default=None,
    )


async def portal_page(entitlements: httpx.AsyncClient, urls: dict[str, str], account: str) -> str:
    response = await entitlements.post(
        "/v1/portal-tokens",
        json={"account_id": account, "ttl_seconds": 86_400, "permissions": ["redeem"]},
    )
    response.raise_for_status()
    return demo_url(
        entitlements_url=urls["entitlements"],
        rewards_url=urls["rewards"],
        notifications_url=urls["notifications"],
        account=account,
        token=response.json()["token"],
    )
