"""The entitlements SDK against a real entitlements process (all roles, real Kafka and
PostgreSQL): its view converges after a burst of changes; it keeps answering, marked stale,
while the process is killed and is fresh again once it is back, without a restart; a revoked
credential ends its stream; an account-scoped token cannot follow another account."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chaos.stack import ServiceProcess
from tangible_client.entitlements import AsyncEntitlements, CredentialRefused
from tangible_devstack.pytest_plugin import DatabaseFactory, IssueToken
from tangible_devstack.scenario import bearer, term_around
from tangible_devstack.testing import eventually
from tangible_runtime.settings import AuthSettings, KafkaSettings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = [f"acct-{n}" for n in range(6)]


async def _post(client: httpx.AsyncClient, path: str, token: str, body: Any = None) -> Any:
    response = await client.post(path, json=body, headers=bearer(token))
    assert response.status_code < 300, f"{path}: {response.status_code} {response.text}"
    return response.json()


async def _provision(client: httpx.AsyncClient, admin: str) -> None:
    meter = {"event_type": "report.generated", "aggregation": "count", "reset_period": "month"}
    await _post(
        client,
        "/v1/features",
        admin,
        {"key": "reports", "name": "Reports", "kind": "metered", "meter": meter},
    )
    await _post(client, "/v1/features", admin, {"key": "beta", "name": "Beta", "kind": "boolean"})
    await _post(
        client, "/v1/plans", admin, {"key": "pro", "name": "Pro", "features": {"reports": {"limit": 10}}}
    )
    await _post(client, "/v1/plans/pro/versions/1/publish", admin)
    term_start, term_end = term_around(datetime.now(UTC))
    for account in ACCOUNTS:
        body = {"account_id": account, "plan_key": "pro", "term_start": term_start, "term_end": term_end}
        await _post(client, "/v1/licenses", admin, body)


async def _ready(base: str) -> None:
    async def probe() -> None:
        try:
            async with httpx.AsyncClient(base_url=base) as client:
                response = await client.get("/readyz")
        except httpx.TransportError as error:  # not listening yet
            raise AssertionError(str(error)) from error
        assert response.status_code == 200

    await eventually(probe, timeout=60, interval=0.2)


class System:
    def __init__(self, process: ServiceProcess, admin: str, issue_token: IssueToken, tenant_id: str) -> None:
        self.process = process
        self.admin = admin
        self.issue_token = issue_token
        self.tenant_id = tenant_id
        self.base = process.base_url
        self.client = httpx.AsyncClient(base_url=self.base, timeout=10)

    async def http_answer(self, account: str, feature: str) -> dict[str, Any]:
        read = self.issue_token(self.tenant_id, "read")
        response = await self.client.get(
            f"/v1/accounts/{account}/entitlements/{feature}", headers=bearer(read)
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def view_knows_every_account(self) -> None:
        """The check route reads an account the in-memory view does not know yet from the
        database; the SDK's snapshot comes from the view alone, so wait for the view."""
        read = self.issue_token(self.tenant_id, "read")
        response = await self.client.get(
            "/v1/entitlements/view", params={"account": ACCOUNTS}, headers=bearer(read)
        )
        assert response.status_code == 200, response.text
        missing = [a["account_id"] for a in response.json()["accounts"] if a["missing"]]
        assert not missing, missing

    async def grant(self, account: str, feature: str, value: Any, expires_at: datetime | None = None) -> None:
        body: dict[str, Any] = {
            "feature_key": feature,
            "kind": "feature_override",
            "value": value,
            "reason": "test",
        }
        if expires_at is not None:
            body["expires_at"] = expires_at.isoformat()
        await _post(self.client, f"/v1/accounts/{account}/grants", self.admin, body)


@pytest.fixture
async def system(
    database_factory: DatabaseFactory,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    issue_token: IssueToken,
    tenant_id: str,
    tmp_path: Path,
) -> AsyncIterator[System]:
    url = await database_factory("entitlements", ROOT / "services" / "entitlements" / "migrations")
    assert auth_settings.public_key is not None and auth_settings.private_key is not None
    process = ServiceProcess(
        "entitlements",
        "all",
        {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": kafka_settings.topic_prefix,
            "TANGIBLE_AUTH_PUBLIC_KEY": auth_settings.public_key.get_secret_value(),
            "TANGIBLE_AUTH_PRIVATE_KEY": auth_settings.private_key.get_secret_value(),
            "ENTITLEMENTS_DATABASE_URL": url,
            "ENTITLEMENTS_STREAM_HEARTBEAT_SECONDS": "0.3",
            "LOG_LEVEL": "WARNING",
        },
        tmp_path / "entitlements.log",
    )
    process.start()
    try:
        await _ready(process.base_url)
        admin = issue_token(tenant_id, "admin")
        found = System(process, admin, issue_token, tenant_id)
        await _provision(found.client, admin)
        await eventually(found.view_knows_every_account, timeout=20)
        yield found
        await found.client.aclose()
    finally:
        process.stop()


def _sdk(system: System, token: str, **options: Any) -> AsyncEntitlements:
    return AsyncEntitlements(
        system.base, token=token, timeout=2.0, reconnect_delay=0.1, max_reconnect_delay=0.5, **options
    )


async def _fresh(sdk: AsyncEntitlements) -> None:
    assert sdk.fresh


async def test_the_view_converges_after_a_burst_of_changes(system: System) -> None:
    async with _sdk(system, system.issue_token(system.tenant_id, "read"), whole_tenant=True) as sdk:
        await eventually(lambda: _fresh(sdk))
        assert set(sdk.view.accounts) == set(ACCOUNTS)
        soon = datetime.now(UTC) + timedelta(hours=2)
        for n in range(30):  # limits and access flipping on every account, some time-bound
            account = ACCOUNTS[n % len(ACCOUNTS)]
            await system.grant(account, "reports", {"limit": 100 + n}, expires_at=soon if n % 2 else None)
            await system.grant(account, "beta", {"enabled": True})

        async def converged() -> None:
            for account in ACCOUNTS:
                for feature in ("reports", "beta"):
                    local, served = (
                        await sdk.check(account, feature),
                        await system.http_answer(account, feature),
                    )
                    assert (local.has_access, local.limit, local.remaining) == (
                        served["has_access"],
                        served["limit"],
                        served["remaining"],
                    ), (account, feature)
                    assert not local.stale

        await eventually(converged, timeout=20)


async def test_it_serves_stale_through_an_outage_and_recovers_without_a_restart(system: System) -> None:
    async with _sdk(system, system.issue_token(system.tenant_id, "read"), accounts=ACCOUNTS[:2]) as sdk:
        await eventually(lambda: _fresh(sdk))
        before = await sdk.check(ACCOUNTS[0], "reports")
        assert before.limit == 10 and not before.stale
        system.process.kill()

        async def stale() -> None:
            found = await sdk.check(ACCOUNTS[0], "reports")
            assert found.stale and found.as_of is not None and found.limit == 10

        await eventually(stale)
        system.process.start()
        await _ready(system.base)
        await system.grant(ACCOUNTS[0], "reports", {"limit": 50})

        async def recovered() -> None:
            found = await sdk.check(ACCOUNTS[0], "reports")
            assert not found.stale and found.limit == 60

        await eventually(recovered, timeout=30)


async def test_a_revoked_credential_stops_the_stream(system: System) -> None:
    key = await _post(system.client, "/v1/credentials", system.admin, {"name": "sdk", "scopes": ["read"]})
    async with _sdk(system, key["token"], accounts=ACCOUNTS[:1]) as sdk:
        await eventually(lambda: _fresh(sdk))
        await _post(system.client, f"/v1/credentials/{key['id']}/revoke", system.admin)

        async def stopped() -> None:
            assert sdk.stopped is not None and not sdk.fresh

        await eventually(stopped)
        assert (await sdk.check(ACCOUNTS[0], "reports")).stale  # still answered, marked stale


async def test_an_account_scoped_token_cannot_follow_another_account(system: System) -> None:
    own, other = ACCOUNTS[0], ACCOUNTS[1]
    token = system.issue_token(system.tenant_id, "read", account_id=own)
    streamed = await system.client.get(
        "/v1/entitlements/stream", params={"account": other}, headers=bearer(token)
    )
    assert streamed.status_code == 403
    read = await system.client.get("/v1/entitlements/view", params={"account": other}, headers=bearer(token))
    assert read.status_code == 403
    async with _sdk(system, token, account=own, accounts=[own]) as sdk:
        await eventually(lambda: _fresh(sdk))
        assert (await sdk.check(own, "reports")).limit == 10
        with pytest.raises(CredentialRefused):
            await sdk.check(other, "reports")
        await system.grant(own, "beta", {"enabled": True})

        async def granted() -> None:
            assert (await sdk.check(own, "beta")).has_access

        await eventually(granted)
    async with _sdk(system, token, account=other) as refused:

        async def stopped() -> None:
            assert refused.stopped is not None

        await eventually(stopped)
