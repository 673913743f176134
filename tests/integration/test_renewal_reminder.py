"""A renewal reminder travels the whole system on one controllable clock: usage through
usage-ingest, the renewal-due notice from entitlements' scheduler, and notifications
composing the reminder with the account's impact note read over HTTP from entitlements and
rewards (served on loopback, as in production), and what renewing brings: the changes of the
plan's latest version and the reward benefits of the term."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tangible_devstack.pytest_plugin import DatabaseFactory, IssueToken
from tangible_devstack.scenario import Clients, bearer, provision
from tangible_devstack.testing import eventually, running, serving, wait_ready
from tangible_runtime.domain import ManualClock
from tangible_runtime.settings import AuthSettings, KafkaSettings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "acct-renewal"
RENEWAL = "tangible.entitlements.v1.renewal_due_announced"


async def post(client: httpx.AsyncClient, token: str, path: str, body: Any) -> Any:
    response = await client.post(path, json=body, headers=bearer(token))
    assert response.status_code in (200, 201, 202), f"{path}: {response.status_code} {response.text}"
    return response.json()


async def test_a_renewal_reminder_carries_the_accounts_own_impact(
    database_factory: DatabaseFactory,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    issue_token: IssueToken,
    tenant_id: str,
) -> None:
    from tangible_entitlements import bootstrap as entitlements
    from tangible_entitlements.config import Settings as EntitlementsSettings
    from tangible_ingest import bootstrap as ingest
    from tangible_ingest.config import Settings as IngestSettings
    from tangible_notifications import bootstrap as notifications
    from tangible_notifications.config import Settings as NotificationsSettings
    from tangible_rewards import bootstrap as rewards
    from tangible_rewards.config import Settings as RewardsSettings

    clock = ManualClock(datetime(2026, 9, 25, 9, tzinfo=UTC))  # fixed date: every service on it
    common: dict[str, Any] = {"kafka": kafka_settings, "auth": auth_settings}

    async def url(name: str) -> str:
        return await database_factory(name, ROOT / "services" / name / "migrations")

    async with AsyncExitStack() as stack:

        async def start(app: FastAPI) -> httpx.AsyncClient:
            client = await stack.enter_async_context(running(app))
            await wait_ready(client)
            return client

        ent_app = entitlements.bootstrap(
            EntitlementsSettings(
                database_url=await url("entitlements"),
                scheduler_interval_seconds=0.05,
                lifecycle_interval_seconds=0.05,
                **common,
            ),
            clock=clock,
            configure_logs=False,
        )
        ent = await start(ent_app)
        ent_url = await stack.enter_async_context(serving(ent_app))
        rew_app = rewards.bootstrap(
            RewardsSettings(database_url=await url("rewards"), **common), clock=clock, configure_logs=False
        )
        rew = await start(rew_app)
        rew_url = await stack.enter_async_context(serving(rew_app))
        ing = await start(
            ingest.bootstrap(
                IngestSettings(database_url=await url("usage-ingest"), **common),
                clock=clock,
                configure_logs=False,
            )
        )
        notes = await start(
            notifications.bootstrap(
                NotificationsSettings(
                    database_url=await url("notifications"),
                    entitlements_url=ent_url,
                    rewards_url=rew_url,
                    delivery_poll_seconds=0.05,
                    **common,
                ),
                clock=clock,
                configure_logs=False,
            )
        )

        # the foundation scenario: reports (0.25 hours saved each), starter, a license for
        # 2026, a 100-credit milestone at the first report; and a rule for renewal reminders
        admin = issue_token(tenant_id, "admin")
        term = ("2026-01-01", "2027-01-01")  # fixed date: a term around the manual clock's day
        await provision(Clients(ing, ent, rew, notes), admin, ACCOUNT, term=term)
        rule = {"name": "Renewals", "event_types": [RENEWAL], "channels": ["inbox"]}
        await post(notes, admin, "/v1/rules", rule)
        # what renewing brings: starter v2 (published after the license) adds exports and raises
        # the reports limit; a milestone at 10 reports grants early access to exports this term
        exports = {"key": "exports", "name": "Exports", "kind": "boolean", "outcome": "Data in your BI tool"}
        await post(ent, admin, "/v1/features", exports)
        v2 = {"key": "starter", "name": "Starter", "features": {"reports": {"limit": 50}, "exports": {}}}
        assert (await post(ent, admin, "/v1/plans", v2))["version"] == 2
        await post(ent, admin, "/v1/plans/starter/versions/2/publish", {})
        early = {
            "key": "ten-reports",
            "name": "Ten reports",
            "kind": "usage_threshold",
            "params": {"usage_type": "report.generated", "target": 10},
            "reward": {"kind": "early_access", "feature_key": "exports", "duration_days": 30},
        }
        await post(rew, admin, "/v1/milestones", early)

        # 40 reports in September, through usage-ingest
        events = [
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "app://reports",
                "type": "report.generated",
                "subject": ACCOUNT,
                "time": f"2026-09-{1 + i % 20:02d}T10:00:00Z",  # fixed date: September on the clock
                "data": {"quantity": 1, "user_id": f"u-{i % 3}"},
            }
            for i in range(40)
        ]
        response = await ing.post(
            "/v1/events",
            json=events,
            headers={
                **bearer(issue_token(tenant_id, "ingest")),
                "Content-Type": "application/cloudevents-batch+json",
            },
        )
        assert response.status_code == 202 and response.json()["accepted"] == 40, response.text
        reader = bearer(issue_token(tenant_id, "read", account_id=ACCOUNT))

        async def counted() -> None:
            check = await ent.get(f"/v1/accounts/{ACCOUNT}/entitlements/reports", headers=reader)
            assert check.json()["usage"] == 40, check.text
            balance = await rew.get(f"/v1/accounts/{ACCOUNT}/balance", headers=reader)
            assert balance.status_code == 200 and float(balance.json()["total"]) == 100, balance.text
            grants = await ent.get(f"/v1/accounts/{ACCOUNT}/whats-new", headers=reader)
            assert grants.json()["reward_benefits"], grants.text

        await eventually(counted, timeout=20)

        async def inbox() -> list[dict[str, Any]]:
            """The renewal reminders (the scenario's threshold rule fills the inbox too)."""
            response = await notes.get(f"/v1/accounts/{ACCOUNT}/inbox", headers=reader)
            assert response.status_code == 200, response.text
            return [i for i in response.json()["items"] if i["title"].startswith("Your renewal")]

        assert await inbox() == []  # no lead time is due yet: 90 days before is 3 October

        clock.set(datetime(2026, 10, 3, 8, tzinfo=UTC))  # fixed date: the manual clock

        async def reminded() -> dict[str, Any]:
            items = await inbox()
            assert len(items) == 1, items
            return items[0]

        item = await eventually(reminded, timeout=30)
        assert item["title"] == "Your renewal is 90 days away"
        body = item["body"]
        assert "Your license renews on 2027-01-01." in body  # fixed date: the term above
        assert "This term your team generated 40 reports, ~10 hours saved, and earned 2 rewards." in body, (
            body
        )
        assert "You have 100 credits to spend." in body and "Renewing keeps Exports and Reports." in body, (
            body
        )
        assert body.endswith(
            "New when you renew:\n"
            "• New in Starter: Exports.\n"
            "• Exports: Data in your BI tool.\n"
            "• Reports: limit raised from 2 to 50.\n"
            "• Earned through rewards: Exports."
        ), body
