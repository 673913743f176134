"""Fixtures of notifications' tests: the service in-process on real Kafka and PostgreSQL, and
real loopback servers: an HTTP receiver, an SMTP server, and the entitlements and rewards
HTTP contracts served with fixed figures (the other services' APIs, not fakes of ours)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from aiosmtpd.controller import Controller
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tangible_devstack.processes import free_port
from tangible_devstack.pytest_plugin import DatabaseFactory
from tangible_devstack.testing import running, serving, wait_ready
from tangible_notifications.bootstrap import bootstrap
from tangible_notifications.config import Settings
from tangible_runtime.auth import RevocationList, TokenVerifier, Unauthenticated
from tangible_runtime.domain import ManualClock
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import AuthSettings, KafkaSettings
from tangible_schemas import EventData, new_event, to_record

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


class Start(Protocol):
    async def __call__(
        self, *, clock: ManualClock | None = ..., roles: tuple[str, ...] | None = ..., **overrides: Any
    ) -> httpx.AsyncClient: ...


@pytest.fixture
async def database_url(database_factory: DatabaseFactory) -> str:
    return await database_factory("notifications", MIGRATIONS)


@pytest.fixture
def clock() -> ManualClock:
    # near the wall clock: the standardwebhooks verifier checks timestamps against it
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def start(
    database_url: str, kafka_settings: KafkaSettings, auth_settings: AuthSettings, clock: ManualClock
) -> AsyncIterator[Start]:
    """`await start(**settings)` → an HTTP client on a running notifications (all roles)."""
    stack = AsyncExitStack()
    key = Fernet.generate_key().decode()

    async def launch(
        *, clock: ManualClock | None = clock, roles: tuple[str, ...] | None = None, **overrides: Any
    ) -> httpx.AsyncClient:
        values: dict[str, Any] = {
            "database_url": database_url,
            "kafka": kafka_settings,
            "auth": auth_settings,
            "secrets_key": key,
            "allow_private_targets": True,  # receivers run on loopback
            "delivery_poll_seconds": 0.05,
            "scheduler_interval_seconds": 0.1,
            "http_attempts": 2,
            "http_timeout_seconds": 10.0,  # the stubs share this event loop: a stall is not an outage
        }
        values.update(overrides)
        settings = Settings(**values)
        kwargs: dict[str, Any] = {"clock": clock, "configure_logs": False}
        if roles is not None:
            kwargs["roles"] = roles
        client = await stack.enter_async_context(running(bootstrap(settings, **kwargs)))
        await wait_ready(client)
        return client

    async with stack:
        yield launch


Publish = Callable[..., Any]


@pytest.fixture
async def publish(kafka_settings: KafkaSettings, clock: ManualClock) -> AsyncIterator[Publish]:
    """`await publish(data, event_id=...)`: a source event on its topic, as the others publish
    (stamped with the test's clock, as they stamp theirs: notifications drops signals about the
    past, and a clock moved days ahead would make a wall-clock stamp look like history)."""
    clients = KafkaClients(kafka_settings)
    producer = clients.producer()
    await producer.start()

    async def send(data: EventData, *, event_id: str | None = None) -> str:
        event = new_event(data, source="tangible/test", event_id=event_id, time=clock.now())
        record = to_record(event)
        await producer.send_and_wait(
            clients.topic(record.topic), value=record.value, key=record.key, headers=record.headers
        )
        return event.id

    try:
        yield send
    finally:
        await producer.stop()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver answering from a script of statuses (the last one repeats)."""

    statuses: list[int] = field(default_factory=lambda: [200])
    extra_headers: dict[str, str] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        self.requests.append(Received(dict(request.headers), await request.body()))
        status = self.statuses[min(len(self.requests), len(self.statuses)) - 1]
        return Response(status_code=status, headers=self.extra_headers if status >= 300 else {})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.handle, methods=["POST"])])


class _Mailbox:
    def __init__(self, temporary_failures: int) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.failures_left = temporary_failures

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        if self.failures_left > 0:
            self.failures_left -= 1
            return "451 4.3.0 try again later"
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append(list(envelope.rcpt_tos))
        return "250 OK"


@asynccontextmanager
async def smtp_server(temporary_failures: int = 0) -> AsyncIterator[tuple[int, _Mailbox]]:
    """aiosmtpd on loopback (it runs its own thread and loop)."""
    mailbox = _Mailbox(temporary_failures)
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()


def parts(message: EmailMessage) -> dict[str, str]:
    """content type → decoded text of each leaf part."""
    found: dict[str, str] = {}
    for part in message.walk():
        if not part.is_multipart():
            found[part.get_content_type()] = str(part.get_content())
    return found


@dataclass
class Contracts:
    """entitlements' usage report and rewards' rewards and balance, with fixed figures.

    They check the bearer token the way those services do (the platform public key), so a
    test also proves notifications mints valid account-scoped read tokens.
    """

    public_key: str
    seen: list[tuple[str, str | None, str]] = field(default_factory=list)
    reports: int = 1240
    hours: float = 310

    def _authorise(self, request: Request) -> None:
        verifier = TokenVerifier(self.public_key, issuer="tangible", revocations=RevocationList())
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        principal = verifier.verify(token)
        account = request.path_params["account_id"]
        principal.require_account(account)
        self.seen.append(
            (principal.tenant_id, principal.account_id, f"{request.url.path}?{request.url.query}")
        )

    def _guarded(self, handler: Callable[[Request], dict[str, Any]]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                self._authorise(request)
            except Unauthenticated:
                return JSONResponse({"title": "unauthenticated"}, status_code=401)
            return JSONResponse(handler(request))

        return endpoint

    def _usage(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        return {
            "account_id": request.path_params["account_id"],
            "from": q["from"],
            "to": q["to"],
            "granularity": q.get("granularity", "month"),
            "features": [
                {
                    "feature_key": "reports",
                    "name": "Reports",
                    "outcome": "Board-ready reports in one click",
                    "total": self.reports,
                    "series": [{"period_start": q["from"], "value": self.reports}],
                    "impact": {"metric": "hours saved", "per_unit": 0.25, "value": self.hours},
                }
            ],
            "impact": [{"metric": "hours saved", "value": self.hours}],
            "benefits_in_force": [
                {"feature_key": "reports", "name": "Reports", "outcome": "Board-ready reports", "sources": []}
            ],
        }

    def _rewards(self, request: Request) -> dict[str, Any]:
        rewards = [
            {
                "reward_id": f"r{i}",
                "rule_key": "first-report",
                "name": name,
                "kind": "credits",
                "credits": "100.00",
                "granted_at": granted,
            }
            for i, (name, granted) in enumerate(
                [("First report", "2026-03-02T10:00:00Z"), ("Champion", "2026-09-14T10:00:00Z")]
            )
        ]
        return {"account_id": request.path_params["account_id"], "rewards": rewards, "total": len(rewards)}

    def _balance(self, request: Request) -> dict[str, Any]:
        return {"account_id": request.path_params["account_id"], "total": "150.00", "buckets": []}

    def _whats_new(self, request: Request) -> dict[str, Any]:
        """One raised limit, written in the language asked for (`?locale=`), as entitlements does."""
        german = request.query_params.get("locale") == "de"
        text = "Reports: Limit erhöht von 10 auf 50." if german else "Reports: limit raised from 10 to 50."
        return {
            "account_id": request.path_params["account_id"],
            "plan_key": "starter",
            "plan_version": 1,
            "latest_version": 2,
            "changes": [{"kind": "limit_raised", "feature_key": "reports", "text": text}],
            "reward_benefits": [],
        }

    def entitlements(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/accounts/{account_id}/usage", self._guarded(self._usage)),
                Route("/v1/accounts/{account_id}/whats-new", self._guarded(self._whats_new)),
            ]
        )

    def rewards(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/accounts/{account_id}/rewards", self._guarded(self._rewards)),
                Route("/v1/accounts/{account_id}/balance", self._guarded(self._balance)),
            ]
        )


@pytest.fixture
async def contracts(auth_settings: AuthSettings) -> AsyncIterator[tuple[Contracts, str, str]]:
    """(contracts, entitlements URL, rewards URL), both served on loopback."""
    assert auth_settings.public_key is not None
    stub = Contracts(auth_settings.public_key.get_secret_value())
    async with serving(stub.entitlements()) as entitlements, serving(stub.rewards()) as rewards:
        yield stub, entitlements, rewards


@pytest.fixture
async def receiver() -> AsyncIterator[Callable[..., Any]]:
    """`hook, url = await receiver(statuses=[503, 200], headers={...})`: a live HTTP receiver."""
    stack = AsyncExitStack()

    async def make(
        statuses: list[int] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[Receiver, str]:
        hook = Receiver(statuses or [200], headers or {})
        base = await stack.enter_async_context(serving(hook.app()))
        return hook, f"{base}/hook"

    async with stack:
        yield make


@pytest.fixture
async def smtp() -> AsyncIterator[Callable[..., Any]]:
    """`port, mailbox = await smtp(temporary_failures=1)`: a live SMTP server (aiosmtpd)."""
    stack = AsyncExitStack()

    async def make(temporary_failures: int = 0) -> tuple[int, _Mailbox]:
        return await stack.enter_async_context(smtp_server(temporary_failures))

    async with stack:
        yield make


@pytest.fixture
def crossed() -> Callable[..., Any]:
    """`crossed(tenant_id, 80)`: a threshold_crossed event as entitlements publishes it."""
    from tangible_schemas.entitlements import ThresholdCrossed

    def make(tenant_id: str, percent: int = 80, *, account: str = "acct-1", feature: str = "reports") -> Any:
        return ThresholdCrossed(
            tenant_id=tenant_id,
            account_id=account,
            feature_key=feature,
            threshold_percent=percent,
            usage=percent / 10,
            limit=10,
            period_start=datetime(2026, 11, 1, tzinfo=UTC),
        )

    return make
