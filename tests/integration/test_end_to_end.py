"""One usage event travels ingest → Kafka → entitlements, rewards → Kafka → notifications.

Every hop is real: HTTP into usage-ingest, Apache Kafka between services, PostgreSQL
behind each, outbox relays publishing the derived events.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.scenario import (
    Clients,
    first_milestone,
    inbox_items,
    provision,
    report_usage,
    send_report_generated,
    usage_counted_for,
)
from tangible_devstack.testing import eventually

pytestmark = pytest.mark.integration

ACCOUNT = "acct-e2e"


async def test_one_usage_event_reaches_entitlements_rewards_and_the_inbox(
    start_system: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    system: Clients = await start_system()
    await provision(system, issue_token(tenant_id, "admin"), ACCOUNT)
    sent = await send_report_generated(system, issue_token(tenant_id, "ingest"), ACCOUNT)
    assert sent.response.status_code == 202 and sent.response.json()["accepted"] == 1
    reader = issue_token(tenant_id, "read", account_id=ACCOUNT)

    async def counter_moved() -> dict[str, Any]:
        check = await usage_counted_for(system, reader, ACCOUNT, sent)
        assert check["usage"] == 1
        return check

    async def progress_moved() -> None:
        milestone = await first_milestone(system, reader, ACCOUNT)
        assert milestone["current"] == 1 and milestone["reached"]

    async def inbox_filled() -> dict[str, Any]:
        items = await inbox_items(system, reader, ACCOUNT)
        assert len(items) == 1, items  # an AssertionError, so that `eventually` waits for it
        return items[0]

    check = await eventually(counter_moved, timeout=30)
    assert check["has_access"] is True and check["remaining"] == 1
    assert check["sources"] == [{"kind": "plan", "key": "starter", "version": 1, "expires_at": None}]
    await eventually(progress_moved, timeout=30)
    item = await eventually(inbox_filled, timeout=30)
    assert item["title"] == "reports at 50 % of your plan"
    assert item["body"] == "You have used 1 of 2."


async def test_without_the_entitlements_consumer_the_counter_and_inbox_stay_empty(
    start_system: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    """The end-to-end path really depends on the entitlements hop (no shortcut exists)."""
    system: Clients = await start_system(entitlements_roles=("api", "relay"))
    await provision(system, issue_token(tenant_id, "admin"), ACCOUNT)
    sent = await send_report_generated(system, issue_token(tenant_id, "ingest"), ACCOUNT)
    assert sent.response.status_code == 202
    reader = issue_token(tenant_id, "read")

    async def progress_moved() -> None:
        assert (await first_milestone(system, reader, ACCOUNT))["current"] == 1

    await eventually(progress_moved, timeout=30)  # the event did flow through Kafka
    await asyncio.sleep(2)
    assert (await report_usage(system, reader, ACCOUNT, at=sent.at))["usage"] == 0
    assert (await report_usage(system, reader, ACCOUNT))["usage"] == 0
    assert await inbox_items(system, reader, ACCOUNT) == []
