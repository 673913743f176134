"""The live stream survives the restart of the process serving it: notifications' API role
as its own process (`python -m tangible_notifications api`) is killed (SIGKILL, as a pod
dies) under an open stream; a fresh process starts on the same port, the page reconnects
with `Last-Event-ID`, and receives exactly what happened meanwhile and after: nothing lost,
nothing repeated. An event's id is its position in Kafka, so no state of the dead process
is needed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chaos.stack import ServiceProcess, wait_ready
from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.scenario import Clients, bearer, provision
from tangible_devstack.testing import eventually
from tangible_runtime.settings import AuthSettings, KafkaSettings

from .conftest import StartedService
from .test_live_stream import ADJUSTED, Listener, _listen

pytestmark = [pytest.mark.integration, pytest.mark.long(50), pytest.mark.timeout(240)]

ACCOUNT = "acct-restart"


@contextlib.asynccontextmanager
async def listening(url: str, token: str, last_id: str | None = None) -> AsyncIterator[Listener]:
    """An open stream that may be cut by the server's death: the cut ends it, quietly."""
    listener = Listener()

    async def listen() -> None:
        with contextlib.suppress(httpx.HTTPError):
            await _listen(url, token, listener, last_id)

    task = asyncio.create_task(listen())

    async def opened() -> None:
        assert listener.status == 200

    try:
        await eventually(opened, timeout=15)
        yield listener
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _adjust(system: Clients, admin: str, reason: str) -> None:
    response = await system.rewards.post(
        f"/v1/accounts/{ACCOUNT}/adjustments", json={"amount": "5", "reason": reason}, headers=bearer(admin)
    )
    assert response.status_code in (200, 201), response.text


def _reasons(listener: Listener) -> list[str]:
    return [e["data"]["data"]["reason"] for e in listener.of_type(ADJUSTED)]


async def test_a_stream_resumes_on_a_restarted_process_without_loss_or_repeat(
    start_system: Any,
    issue_token: IssueToken,
    tenant_id: str,
    started_services: dict[str, StartedService],
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    tmp_path: Path,
) -> None:
    system: Clients = await start_system()
    admin = issue_token(tenant_id, "admin")
    await provision(system, admin, ACCOUNT)
    minted = await system.entitlements.post(
        "/v1/portal-tokens", json={"account_id": ACCOUNT}, headers=bearer(admin)
    )
    assert minted.status_code == 201, minted.text
    token = minted.json()["token"]

    assert auth_settings.public_key is not None
    server = ServiceProcess(
        "notifications",
        "api",
        {
            **os.environ,
            "NOTIFICATIONS_DATABASE_URL": started_services["notifications"].database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": kafka_settings.topic_prefix,
            "TANGIBLE_AUTH_PUBLIC_KEY": auth_settings.public_key.get_secret_value(),
            "NOTIFICATIONS_STREAM_HEARTBEAT_SECONDS": "0.5",
            "LOG_LEVEL": "WARNING",
        },
        tmp_path / "notifications-api.log",
    )
    url = f"{server.base_url}/v1/accounts/{ACCOUNT}/stream"
    try:
        server.start()
        await asyncio.to_thread(wait_ready, server, time.monotonic() + 90)
        async with listening(url, token) as before:
            await _adjust(system, admin, "before the crash")

            async def arrived() -> None:
                assert _reasons(before) == ["before the crash"]

            await eventually(arrived, timeout=10)
            await asyncio.to_thread(server.kill)  # SIGKILL: no goodbye to the open stream
            last_seen = before.last_id
            assert last_seen

        await _adjust(system, admin, "while it was down")
        server.start()  # the same command on the same port, as a restarted pod
        await asyncio.to_thread(wait_ready, server, time.monotonic() + 90)
        async with listening(url, token, last_id=last_seen) as after:
            await _adjust(system, admin, "after the restart")

            async def caught_up() -> None:
                assert _reasons(after) == ["while it was down", "after the restart"], after.frames

            await eventually(caught_up, timeout=15)
            await asyncio.sleep(1)  # and nothing more: no repeat arriving late
            assert _reasons(after) == ["while it was down", "after the restart"]
    finally:
        await asyncio.to_thread(server.stop)
