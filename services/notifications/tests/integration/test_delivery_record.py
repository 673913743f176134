"""The delivery worker keeps the receivers' answers through a database blink: found by the
chaos run, where a connection reset while recording an acknowledged webhook made it be sent
(and acknowledged) again once the lease lapsed."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tangible_devstack.processes import free_port
from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.testing import eventually, running
from tangible_notifications.adapters.secrets import SecretBox
from tangible_notifications.adapters.smtp import EmailSender, SmtpConfig
from tangible_notifications.adapters.tables import outbox
from tangible_notifications.adapters.webhooks import WebhookSender
from tangible_notifications.bootstrap import bootstrap
from tangible_notifications.config import Settings
from tangible_notifications.domain.retry import RetryPolicy
from tangible_notifications.entrypoints.dependencies import SOURCE
from tangible_notifications.service_layer.handlers.delivery import Dispatch, deliver_due
from tangible_notifications.service_layer.unit_of_work import UnitOfWork
from tangible_runtime.db import create_engine, create_session_factory
from tangible_runtime.domain import ManualClock
from tangible_runtime.settings import AuthSettings, KafkaSettings

pytestmark = pytest.mark.integration

THRESHOLD = "tangible.entitlements.v1.threshold_crossed"


async def test_an_acknowledged_webhook_is_recorded_once_even_if_the_database_blinks_while_recording(
    crossed: Any,
    start: Any,
    receiver: Any,
    publish: Any,
    issue_token: IssueToken,
    tenant_id: str,
    database_url: str,
    clock: ManualClock,
) -> None:
    key = Fernet.generate_key().decode()
    api = await start(roles=("api", "consumer", "relay"), secrets_key=key)  # no delivery worker
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    hook, url = await receiver()
    channel = await api.post(
        "/v1/channels", json={"kind": "webhook", "name": "ops", "url": url}, headers=admin
    )
    assert channel.status_code == 201, channel.text
    rule = await api.post(
        "/v1/rules", json={"name": "t", "event_types": [THRESHOLD], "channels": ["webhook"]}, headers=admin
    )
    assert rule.status_code == 201, rule.text
    await publish(crossed(tenant_id))

    async def pending() -> None:
        response = await api.get("/v1/deliveries", params={"status": "pending"}, headers=admin)
        assert len(response.json()["items"]) == 1

    await eventually(pending, timeout=20)

    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    commits = 0

    class BlinkingOnRecord(UnitOfWork):
        """The second commit (the record, after the send) loses its connection once."""

        async def commit(self) -> None:
            nonlocal commits
            commits += 1
            if commits == 2:
                raise ConnectionResetError("connection reset by peer")
            await super().commit()

    async with httpx.AsyncClient() as client:
        dispatch = Dispatch(
            senders={
                "webhook": WebhookSender(client, SecretBox(key), allow_private=True),
                "email": EmailSender(
                    SmtpConfig("127.0.0.1", 1, None, None, False, 1.0), default_sender="noreply@example.test"
                ),
            },
            policy=RetryPolicy(
                window=timedelta(hours=1), base=timedelta(seconds=1), cap=timedelta(seconds=5)
            ),
            disable_after=timedelta(days=5),
            lease=timedelta(seconds=30),
        )

        def new_uow() -> UnitOfWork:
            return BlinkingOnRecord(sessions, outbox_table=outbox, source=SOURCE)

        try:
            assert await deliver_due(new_uow=new_uow, dispatch=dispatch, clock=clock, limit=10) == 1
            clock.advance(timedelta(minutes=5))  # past the lease: nothing is due again
            assert await deliver_due(new_uow=new_uow, dispatch=dispatch, clock=clock, limit=10) == 0
        finally:
            await engine.dispose()

    assert commits > 2  # the record was retried after the blink
    assert len(hook.requests) == 1
    succeeded = await api.get("/v1/deliveries", params={"status": "succeeded"}, headers=admin)
    assert [d["attempts"] for d in succeeded.json()["items"]] == [1]


async def test_a_graceful_stop_records_the_round_in_hand_instead_of_sending_it_again(
    crossed: Any,
    start: Any,
    publish: Any,
    issue_token: IssueToken,
    tenant_id: str,
    database_url: str,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
) -> None:
    """Found by the chaos run: SIGTERM cancelled the sender mid-round, its acknowledged
    webhooks were never recorded and went out again after the lease."""
    key = Fernet.generate_key().decode()
    api = await start(roles=("api", "consumer", "relay"), secrets_key=key)
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    answered = asyncio.Event()
    received: list[str] = []

    async def slow_hook(request: Request) -> Response:
        received.append(request.headers["webhook-id"])
        await asyncio.sleep(1.0)  # the stop arrives while the receiver is answering
        answered.set()
        return Response(status_code=204)

    port = free_port()
    app = Starlette(routes=[Route("/hook", slow_hook, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    try:
        channel = await api.post(
            "/v1/channels", json={"kind": "webhook", "name": "ops", "url": f"{base}/hook"}, headers=admin
        )
        assert channel.status_code == 201, channel.text
        rule = await api.post(
            "/v1/rules",
            json={"name": "t", "event_types": [THRESHOLD], "channels": ["webhook"]},
            headers=admin,
        )
        assert rule.status_code == 201, rule.text
        settings = Settings(
            database_url=database_url,
            kafka=kafka_settings,
            auth=auth_settings,
            secrets_key=key,
            allow_private_targets=True,
            delivery_poll_seconds=0.05,
        )
        async with running(bootstrap(settings, roles=("delivery",), configure_logs=False)):
            await publish(crossed(tenant_id))
            await eventually(lambda: _one(received), timeout=20)
        assert answered.is_set()  # the stop waited for the answer
    finally:
        server.should_exit = True
        await serving

    succeeded = await api.get("/v1/deliveries", params={"status": "succeeded"}, headers=admin)
    assert [d["attempts"] for d in succeeded.json()["items"]] == [1]


async def _one(received: list[str]) -> None:
    assert len(received) == 1
