"""Migration 0003 chains the history written before it, so old records verify too."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tangible_devstack.databases import create_database, drop_database, with_database
from tangible_runtime.migrations import upgrade

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
AT = datetime(2026, 3, 1, 9, tzinfo=UTC)
OLD_ROWS = [  # (account, license, action, before, after, reason)
    ("acct-1", "lic-old", "created", None, {"plan_key": "starter", "seats": 3.0}, None),
    ("acct-2", "lic-two", "created", None, {"plan_key": "starter"}, ""),
    ("acct-1", "lic-old", "suspended", {"status": "active"}, {"status": "suspended"}, "unpaid"),
    ("acct-1", "lic-old", "reinstated", {"status": "suspended"}, {"status": "active", "n": 1e20}, "paid"),
]


async def test_history_written_before_the_chain_is_chained_and_verifies(
    infrastructure: Any, harness: Any
) -> None:
    h = harness
    admin = infrastructure.postgres_admin_url
    name = f"entitlements_v2_{uuid.uuid4().hex[:8]}"
    await create_database(admin, name)
    url = with_database(admin, name)
    try:
        await asyncio.to_thread(upgrade, MIGRATIONS, url, "0002")
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            for i, (account, license_id, action, before, after, reason) in enumerate(OLD_ROWS):
                await connection.execute(
                    "INSERT INTO license_history (tenant_id, license_id, account_id, action, actor, reason,"
                    " before, after, at) VALUES ($1, $2, $3, $4, 'credential:old', $5, $6, $7, $8)",
                    h.tenant,
                    license_id,
                    account,
                    action,
                    reason,
                    json.dumps(before) if before is not None else None,
                    json.dumps(after),
                    AT + timedelta(minutes=i),
                )
        finally:
            await connection.close()
        await asyncio.to_thread(upgrade, MIGRATIONS, url)

        h.settings = h.settings.model_copy(update={"database_url": url})
        async with h.run(roles=("api",)):
            h.clock.set(AT + timedelta(days=1))
            for account, records in (("acct-1", 3), ("acct-2", 1)):
                verdict = await h.call("GET", f"/v1/accounts/{account}/history/verify")
                assert verdict == {
                    "intact": True,
                    "checked": records,
                    "first_altered_seq": None,
                    "problem": None,
                }
            await h.provision()  # a new license for acct-1: its record continues the old chain
            items = (await h.call("GET", "/v1/accounts/acct-1/history"))["items"]
            assert [(r["seq"], r["action"]) for r in items] == [
                (1, "created"),
                (2, "suspended"),
                (3, "reinstated"),
                (4, "created"),
            ]
            assert items[0]["prev_hash"] == "0" * 64 and items[3]["prev_hash"] == items[2]["hash"]
            assert (await h.call("GET", "/v1/accounts/acct-1/history/verify"))["checked"] == 4
            exported = await h.client.get("/v1/accounts/acct-1/history/export", headers=h.headers("read"))
            response = await h.client.post(
                "/v1/accounts/acct-1/history/verify",
                content=exported.content,
                headers={**h.headers("read"), "content-type": "application/json"},
            )
            assert response.json()["intact"] is True, response.text
    finally:
        await drop_database(admin, name)
