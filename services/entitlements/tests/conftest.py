"""Fixtures of entitlements' tests: the service in-process on real Kafka and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import NullPool, text
from sqlalchemy.ext.asyncio import create_async_engine

from tangible_devstack.pytest_plugin import DatabaseFactory, IssueToken, OwnerUrl
from tangible_devstack.testing import eventually, read_topic, running, wait_ready
from tangible_entitlements.bootstrap import ROLES, bootstrap
from tangible_entitlements.config import Settings
from tangible_entitlements.entrypoints.dependencies import Container
from tangible_runtime.domain import ManualClock
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import AuthSettings, KafkaSettings
from tangible_schemas import CloudEvent, EventData, KafkaRecord, from_record, new_event, to_record
from tangible_schemas.usage import UsageRecorded

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


@dataclass
class Harness:
    """One tenant's view of a running entitlements service, plus Kafka helpers."""

    settings: Settings
    clock: ManualClock
    tenant: str
    issue_token: IssueToken
    owner_url: str  # the database as its owner: rows of every tenant (row-level security)
    client: httpx.AsyncClient = field(init=False)
    app: FastAPI = field(init=False)

    @property
    def kafka(self) -> KafkaClients:
        return KafkaClients(self.settings.kafka)

    def headers(self, *scopes: str, account_id: str | None = None) -> dict[str, str]:
        token = self.issue_token(self.tenant, *(scopes or ("admin",)), account_id=account_id)
        return {"Authorization": f"Bearer {token}"}

    @asynccontextmanager
    async def run(self, roles: Collection[str] = ROLES) -> AsyncIterator[httpx.AsyncClient]:
        app = self.app = bootstrap(self.settings, roles=roles, clock=self.clock, configure_logs=False)
        async with running(app) as client:
            await wait_ready(client)
            self.client = client
            yield client

    @asynccontextmanager
    async def schedulers(self, count: int) -> AsyncIterator[list[Container]]:
        """`count` scheduler replicas on the same database and clock (their containers)."""
        async with AsyncExitStack() as stack:
            containers = []
            for _ in range(count):
                app = bootstrap(self.settings, roles=("scheduler",), clock=self.clock, configure_logs=False)
                await stack.enter_async_context(running(app))
                containers.append(app.state.container)
            yield containers

    async def sql(self, query: str, **params: Any) -> list[Any]:
        """Run SQL on the service's database (inspecting rows, or tampering with them)."""
        engine = create_async_engine(self.owner_url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.execute(text("SELECT set_config('tangible.tenant', '*', true)"))
                result = await connection.execute(text(query), params)
                return list(result.mappings()) if result.returns_rows else []
        finally:
            await engine.dispose()

    async def relay_idle(self) -> None:
        """Every event written so far has been published (the outbox is empty)."""

        async def empty() -> None:
            assert (await self.sql("SELECT count(*) AS n FROM outbox"))[0]["n"] == 0

        await eventually(empty)

    async def call(self, method: str, path: str, body: Any = None, *, status: int | None = None) -> Any:
        response = await self.client.request(method, path, json=body, headers=self.headers())
        if status is not None:
            assert response.status_code == status, response.text
        else:
            assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def in_view(self, account: str) -> bool:
        """Whether checks for the account are served from the in-memory view (else, until the
        view has followed the license's event, from the database)."""
        view = self.app.state.container.view
        return view is not None and (self.tenant, account) in view.licenses

    async def check(self, account: str, feature: str, **params: str) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/accounts/{account}/entitlements/{feature}", params=params, headers=self.headers("read")
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def usage(
        self,
        account: str,
        usage_type: str = "report.generated",
        *,
        at: datetime | None = None,
        user_id: str | None = None,
        quantity: float = 1.0,
        **properties: Any,
    ) -> KafkaRecord:
        data = UsageRecorded(
            tenant_id=self.tenant,
            account_id=account,
            event_id=str(uuid.uuid4()),
            event_source="app://tests",
            usage_type=usage_type,
            occurred_at=at or datetime(2026, 11, 26, 10, tzinfo=UTC),
            quantity=quantity,
            user_id=user_id,
            properties=properties,
        )
        return to_record(new_event(data, source="tangible/usage-ingest"))

    def record(self, data: EventData) -> KafkaRecord:
        return to_record(new_event(data, source="tests"))

    async def produce(self, records: Sequence[KafkaRecord]) -> None:
        producer = self.kafka.producer()
        await producer.start()
        try:
            futures = [
                await producer.send(self.kafka.topic(r.topic), value=r.value, key=r.key, headers=r.headers)
                for r in records
            ]
            for future in futures:
                await future
        finally:
            await producer.stop()

    async def wait_events(self, count: int, topic: str, *types: str) -> list[CloudEvent[EventData]]:
        """The events of these types once there are `count` of them (the relay is asynchronous)."""

        async def probe() -> list[CloudEvent[EventData]]:
            found = await self.events(topic, *types)
            assert len(found) >= count, found
            return found

        return await eventually(probe)

    async def events(self, topic: str, *types: str) -> list[CloudEvent[EventData]]:
        """Every event of these types on the topic so far, for this tenant."""
        events = [from_record(list(r.headers), r.value) for r in await read_topic(self.kafka, topic)]
        return [e for e in events if e.type in types and e.tenantid == self.tenant]

    async def provision(
        self, account: str = "acct-1", *, limit: float = 10, hard: bool = True
    ) -> dict[str, Any]:
        """reports (metered, monthly), sso (boolean), support (config), seats; plan starter v1."""
        features = [
            {
                "key": "reports",
                "name": "Reports",
                "kind": "metered",
                "meter": {"event_type": "report.generated", "aggregation": "count", "reset_period": "month"},
                "outcome": "Board-ready reports in one click",
                "impact_metric": "hours saved",
                "impact_per_unit": 0.25,
            },
            {"key": "sso", "name": "Single sign-on", "kind": "boolean", "outcome": "One login for everyone"},
            {"key": "support", "name": "Support", "kind": "config", "outcome": "Help when you need it"},
            {"key": "seats", "name": "Seats", "kind": "seats", "outcome": "Room for the whole team"},
        ]
        for feature in features:
            await self.call("POST", "/v1/features", feature)
        plan = {
            "key": "starter",
            "name": "Starter",
            "features": {
                "reports": {"limit": limit, "hard": hard},
                "support": {"config": "standard"},
                "seats": {},
            },
        }
        await self.call("POST", "/v1/plans", plan)
        await self.call("POST", "/v1/plans/starter/versions/1/publish")
        return dict(
            await self.call(
                "POST",
                "/v1/licenses",
                {
                    "account_id": account,
                    "plan_key": "starter",
                    "term_start": "2026-01-01",
                    "term_end": "2027-01-01",
                    "seats": 3,
                },
            )
        )


@pytest.fixture
async def harness(
    database_factory: DatabaseFactory,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    issue_token: IssueToken,
    owner_url: OwnerUrl,
    tenant_id: str,
) -> Harness:
    url = await database_factory("entitlements", MIGRATIONS)
    settings = Settings(
        database_url=url,
        kafka=kafka_settings,
        auth=auth_settings,
        scheduler_interval_seconds=0.05,
        lifecycle_interval_seconds=0.05,
        restore_window_days=30,
    )
    return Harness(settings, ManualClock(NOW), tenant_id, issue_token, owner_url(url))


@pytest.fixture
async def service(harness: Harness) -> AsyncIterator[Harness]:
    """The service with every role, running for the test."""
    async with harness.run():
        yield harness
