"""The whole system in one process: four services on real Kafka and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import SpanProcessor
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tangible_devstack.pytest_plugin import DatabaseFactory
from tangible_devstack.scenario import Clients, term_around
from tangible_devstack.testing import running, serving, wait_ready
from tangible_runtime.settings import AuthSettings, KafkaSettings

ROOT = Path(__file__).resolve().parents[2]
SERVICE_NAMES = ("usage-ingest", "entitlements", "rewards", "notifications")


@dataclass
class StartedService:
    """One running service: its app (OpenAPI, settings), client and database."""

    name: str
    app: FastAPI
    client: httpx.AsyncClient
    database_url: str


@pytest.fixture
def started_services() -> dict[str, StartedService]:
    """Filled by `start_system`, by service name."""
    return {}


@pytest.fixture
async def start_system(
    database_factory: DatabaseFactory,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    started_services: dict[str, StartedService],
) -> AsyncIterator[Callable[..., object]]:
    """`await start_system(entitlements_roles=...)` → Clients; stopped after the test.

    `overrides`: settings per service name; `database_url`: maps (service, URL of its fresh
    database) to the URL it connects with."""
    from tangible_entitlements import bootstrap as entitlements
    from tangible_entitlements.config import Settings as EntitlementsSettings
    from tangible_ingest import bootstrap as ingest
    from tangible_ingest.config import Settings as IngestSettings
    from tangible_notifications import bootstrap as notifications
    from tangible_notifications.config import Settings as NotificationsSettings
    from tangible_rewards import bootstrap as rewards
    from tangible_rewards.config import Settings as RewardsSettings

    stack = AsyncExitStack()

    async def start(
        *,
        entitlements_roles: Collection[str] = entitlements.ROLES,
        span_processors: Sequence[SpanProcessor] = (),
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        database_url: Callable[[str, str], str] | None = None,
    ) -> Clients:
        clients = []
        for name, module, settings_class, roles in (
            ("usage-ingest", ingest, IngestSettings, ingest.ROLES),
            ("entitlements", entitlements, EntitlementsSettings, entitlements_roles),
            ("rewards", rewards, RewardsSettings, rewards.ROLES),
            ("notifications", notifications, NotificationsSettings, notifications.ROLES),
        ):
            url = await database_factory(name, ROOT / "services" / name / "migrations")
            if database_url is not None:
                url = database_url(name, url)
            values: dict[str, Any] = {"database_url": url, "kafka": kafka_settings, "auth": auth_settings}
            values.update((overrides or {}).get(name, {}))
            settings = settings_class(**values)
            app = module.bootstrap(
                settings, roles=roles, configure_logs=False, span_processors=span_processors
            )
            client = await stack.enter_async_context(running(app))
            clients.append(client)
            started_services[name] = StartedService(name, app, client, url)
        for client in clients:
            await wait_ready(client)
        return Clients(*clients)

    async with stack:
        yield start


@dataclass
class Receiver:
    """A webhook receiver on loopback that records what it gets (answers 204)."""

    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
async def webhook_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver("")

    async def hook(request: Request) -> Response:
        receiver.requests.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    async with serving(Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])) as url:
        receiver.url = url
        yield receiver


THRESHOLD = "tangible.entitlements.v1.threshold_crossed"
MILESTONE = "tangible.rewards.v1.milestone_reached"


@dataclass
class Seeded:
    """One tenant's real data in every service, created through the APIs.

    `ids`: values for the path parameters of every operation (by parameter name, or
    "<first path segment>.<name>" where the name is ambiguous); `markers`: strings only this
    tenant's data contains; `account_markers`: those of its account `account` alone;
    `user_markers`: those of its user `user` alone."""

    tenant: str
    account: str
    user: str
    ids: dict[str, str]
    markers: set[str]
    account_markers: set[str]
    webhook_secret: str
    user_markers: set[str] = field(default_factory=set)  # its user `user`'s own (preferences)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _call(client: httpx.AsyncClient, method: str, path: str, token: str, body: Any = None) -> Any:
    response = await client.request(method, path, json=body, headers=_bearer(token))
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


async def seed_tenant(
    system: Clients, issue_token: Callable[..., str], tenant: str, receiver_url: str, marker: str
) -> Seeded:
    """Catalog, license, seat, grant, milestone, credits, a redemption, a reward catalogue item
    bought, channel, rule,
    template, settings, preferences; then usage through ingest until a threshold notice
    reached the inbox and the webhook, and the milestone's reward was granted."""
    from tangible_devstack.testing import eventually

    admin = issue_token(tenant, "admin")
    account, user = f"acct-{marker}", f"user-{marker}"
    e, r, n = system.entitlements, system.rewards, system.notifications
    meter = {"event_type": "report.generated", "aggregation": "count", "reset_period": "month"}
    await _call(
        e,
        "POST",
        "/v1/features",
        admin,
        {
            "key": "reports",
            "name": f"Reports {marker}",
            "kind": "metered",
            "meter": meter,
            "outcome": f"Board-ready reports {marker}",
            "impact_metric": "hours saved",
            "impact_per_unit": 0.25,
        },
    )
    await _call(
        e,
        "POST",
        "/v1/features",
        admin,
        {"key": "support", "name": f"Support {marker}", "kind": "config", "outcome": f"Help {marker}"},
    )
    await _call(
        e,
        "POST",
        "/v1/plans",
        admin,
        {"key": "starter", "name": f"Starter {marker}", "features": {"reports": {"limit": 2}}},
    )
    await _call(e, "POST", "/v1/plans/starter/versions/1/publish", admin)
    await _call(
        e,
        "POST",
        "/v1/addons",
        admin,
        {"key": "priority", "name": f"Priority {marker}", "features": {"support": {"config": "priority"}}},
    )
    await _call(e, "POST", "/v1/addons/priority/versions/1/publish", admin)
    term_start, term_end = term_around(datetime.now(UTC))
    license = await _call(
        e,
        "POST",
        "/v1/licenses",
        admin,
        {
            "account_id": account,
            "plan_key": "starter",
            "term_start": term_start,
            "term_end": term_end,
            "seats": 5,
            "addons": ["priority"],
            "reason": f"signed {marker}",
        },
    )
    await _call(e, "POST", f"/v1/licenses/{license['id']}/seats", admin, {"user_id": user})
    await _call(
        e,
        "POST",
        "/v1/addons",
        admin,
        {"key": "extra", "name": f"Extra {marker}", "features": {"support": {"config": "extra"}}},
    )
    await _call(e, "POST", "/v1/addons/extra/versions/1/publish", admin)
    trial = await _call(
        e,
        "POST",
        f"/v1/licenses/{license['id']}/trials",
        admin,
        {"target_kind": "addon", "target_key": "extra", "days": 14, "reason": f"try {marker}"},
    )
    grant = await _call(
        e,
        "POST",
        f"/v1/accounts/{account}/grants",
        admin,
        {
            "feature_key": "support",
            "kind": "support_level",
            "value": f"gold-{marker}",
            "reason": f"vip {marker}",
        },
    )
    await _call(
        r,
        "POST",
        "/v1/milestones",
        admin,
        {
            "key": "first-report",
            "name": f"First report {marker}",
            "kind": "usage_threshold",
            "params": {"usage_type": "report.generated", "target": 1},
            "reward": {"kind": "credits", "credits": "100", "credits_expire_days": 90},
        },
    )
    await _call(r, "PUT", f"/v1/accounts/{account}/settings", admin, {"time_zone": "Europe/Paris"})
    await _call(
        r,
        "POST",
        f"/v1/accounts/{account}/adjustments",
        admin,
        {"amount": "4271", "reason": f"goodwill {marker}"},
    )
    channel = await _call(
        n,
        "POST",
        "/v1/channels",
        admin,
        {"kind": "webhook", "name": f"Hook {marker}", "url": f"{receiver_url}/hook-{marker}"},
    )
    rule = await _call(
        n,
        "POST",
        "/v1/rules",
        admin,
        {
            "name": f"Thresholds {marker}",
            "event_types": [THRESHOLD],
            "channels": ["inbox", "webhook"],
        },
    )
    await _call(
        n,
        "PUT",
        f"/v1/templates/{THRESHOLD}/inbox",
        admin,
        {"title": f"Notice {marker}: {{{{ data.feature_key }}}}", "body": f"Body {marker}"},
    )
    await _call(n, "PUT", "/v1/settings", admin, {"inbox_enabled": True, "quarterly_summary": True})
    await _call(n, "PUT", f"/v1/accounts/{account}/preferences", admin, {"email": f"{marker}@example.com"})
    await _call(
        n, "PUT", f"/v1/accounts/{account}/users/{user}/preferences", admin, {"email": f"{user}@example.com"}
    )

    events = [
        {
            "specversion": "1.0",
            "id": f"evt-{marker}-{i}",
            "source": "app://reports",
            "type": "report.generated",
            "subject": account,
            "data": {"quantity": 1, "user_id": user},
        }
        for i in range(2)
    ]
    accepted = await system.ingest.post(
        "/v1/events",
        json=events,
        headers={
            **_bearer(issue_token(tenant, "ingest")),
            "Content-Type": "application/cloudevents-batch+json",
        },
    )
    assert accepted.status_code == 202 and accepted.json()["accepted"] == 2, accepted.text

    async def settled() -> tuple[Any, Any, Any]:
        rewards = (await _call(r, "GET", f"/v1/accounts/{account}/rewards", admin))["rewards"]
        inbox = (await _call(n, "GET", f"/v1/accounts/{account}/inbox", admin))["items"]
        deliveries = (await _call(n, "GET", "/v1/deliveries", admin, None))["items"]
        assert (
            rewards
            and inbox
            and any(d["status"] == "succeeded" and d["channel"] == "webhook" for d in deliveries)
        ), deliveries
        return (
            rewards[0],
            inbox[0],
            next(d for d in deliveries if d["status"] == "succeeded" and d["channel"] == "webhook"),
        )

    reward, item, delivery = await eventually(settled, timeout=30)
    redemption = await r.post(
        f"/v1/accounts/{account}/redemptions",
        json={"amount": "5", "description": f"swag {marker}"},
        headers={**_bearer(admin), "Idempotency-Key": f"redeem-{marker}"},
    )
    assert redemption.status_code == 201, redemption.text
    await _call(
        r,
        "POST",
        "/v1/catalog/items",
        admin,
        {
            "key": "swag",
            "name": f"Swag {marker}",
            "description": f"Hoodie {marker}",
            "price": "7",
            "stock": 9,
        },
    )
    bought = await r.post(
        f"/v1/accounts/{account}/catalog/items/swag/redeem",
        headers={**_bearer(admin), "Idempotency-Key": f"swag-{marker}"},
    )
    assert bought.status_code == 201, bought.text
    link = await _call(n, "POST", f"/v1/accounts/{account}/report/share-links", admin, {"ttl_hours": 24})
    ids = {
        "account_id": account,
        "catalog.key": "swag",
        "accounts.key": "swag",
        "user_id": user,
        "feature_key": "reports",
        "features.key": "reports",
        "plans.key": "starter",
        "addons.key": "priority",
        "milestones.key": "first-report",
        "version": "1",
        "license_id": license["id"],
        "trial_id": trial["id"],
        "addon_key": "priority",
        "grant_id": grant["id"],
        "reward_id": reward["reward_id"],
        "channel_id": channel["id"],
        "delivery_id": delivery["id"],
        "item_id": item["id"],
        "link_id": link["id"],
        "rule_id": rule["id"],
        "event_type": THRESHOLD,
        "channel": "inbox",
    }
    account_markers = {
        account,
        user,
        license["id"],
        trial["id"],
        f"try {marker}",
        grant["id"],
        reward["reward_id"],
        item["id"],
        link["id"],
        delivery["id"],
        f"gold-{marker}",
        f"vip {marker}",
        f"goodwill {marker}",
        f"swag {marker}",
        f"{marker}@example.com",
        "4271",
    }
    markers = account_markers | {
        f"Reports {marker}",
        f"Board-ready reports {marker}",
        f"Starter {marker}",
        f"Priority {marker}",
        f"Extra {marker}",
        f"First report {marker}",
        f"Swag {marker}",
        f"Hoodie {marker}",
        f"Hook {marker}",
        f"hook-{marker}",
        f"Thresholds {marker}",
        f"Notice {marker}",
        f"Body {marker}",
        channel["id"],
        rule["id"],
        channel["secret"],
    }
    credential = await _call(
        e, "POST", "/v1/credentials", admin, {"name": f"Key {marker}", "scopes": ["read"]}
    )
    ids["credential_id"] = credential["id"]
    markers |= {f"Key {marker}", credential["id"], credential["token"]}
    return Seeded(
        tenant, account, user, ids, markers, account_markers, channel["secret"], {f"{user}@example.com"}
    )


@pytest.fixture
def notifications_overrides() -> dict[str, Any]:
    """notifications with a secrets key (webhook channels) and loopback receivers allowed."""
    from cryptography.fernet import Fernet

    return {
        "secrets_key": Fernet.generate_key().decode(),
        "allow_private_targets": True,
        "delivery_poll_seconds": 0.05,
        # the seeded tenants have quarterly summaries on and these tests run on the real clock:
        # a scheduler tick in the two weeks after a quarter ends would add inbox items mid-test
        "scheduler_interval_seconds": 3600,
    }


Seed = Callable[[Clients, str, str], Awaitable[Seeded]]


@pytest.fixture
def seed(issue_token: Callable[..., str], webhook_receiver: Receiver) -> Seed:
    """`await seed(system, tenant, marker, issue=issue_token)`: see `seed_tenant`."""

    async def make(
        system: Clients, tenant: str, marker: str, issue: Callable[..., str] = issue_token
    ) -> Seeded:
        return await seed_tenant(system, issue, tenant, webhook_receiver.url, marker)

    return make
