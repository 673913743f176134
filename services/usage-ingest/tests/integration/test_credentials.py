"""Credentials on POST /v1/events: 401 and 403 as problem details, revocation via Kafka."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.testing import eventually
from tangible_runtime.auth import TokenIssuer, generate_keypair
from tangible_runtime.credentials import publish_revocation
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import KafkaSettings

pytestmark = pytest.mark.integration

Event = Callable[..., dict[str, Any]]


async def post(ingest: httpx.AsyncClient, event: Event, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await ingest.post("/v1/events", json=[event()], headers=headers)


def assert_problem(response: httpx.Response, status: int, type_suffix: str, title_part: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"].endswith(type_suffix)
    assert title_part in problem["title"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_no_or_malformed_credentials_are_401(ingest: httpx.AsyncClient, event: Event) -> None:
    for authorization in (None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer a.b.c"):
        assert_problem(await post(ingest, event, authorization), 401, "unauthenticated")


async def test_a_token_signed_with_another_key_or_issuer_is_401(
    ingest: httpx.AsyncClient, event: Event, tenant_id: str, auth_keys: tuple[str, str]
) -> None:
    forged = TokenIssuer(generate_keypair()[0], issuer="tangible").issue(
        tenant_id=tenant_id, scopes=["ingest"]
    )
    assert_problem(await post(ingest, event, f"Bearer {forged.token}"), 401, "unauthenticated", "not valid")
    other_issuer = TokenIssuer(auth_keys[0], issuer="someone-else").issue(
        tenant_id=tenant_id, scopes=["ingest"]
    )
    assert_problem(await post(ingest, event, f"Bearer {other_issuer.token}"), 401, "unauthenticated")


async def test_an_expired_token_is_401(
    ingest: httpx.AsyncClient, event: Event, tenant_id: str, token_issuer: TokenIssuer
) -> None:
    expired = token_issuer.issue(
        tenant_id=tenant_id,
        scopes=["ingest"],
        ttl=timedelta(minutes=5),
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    assert_problem(await post(ingest, event, f"Bearer {expired.token}"), 401, "unauthenticated", "expired")


async def test_a_token_without_the_ingest_scope_is_403(
    ingest: httpx.AsyncClient, event: Event, tenant_id: str, issue_token: IssueToken
) -> None:
    for scopes in (("read",), ("admin",), ("read", "admin")):
        token = issue_token(tenant_id, *scopes)
        assert_problem(await post(ingest, event, f"Bearer {token}"), 403, "forbidden", "ingest")
    account_scoped = issue_token(tenant_id, "read", account_id="acct-1")
    assert_problem(await post(ingest, event, f"Bearer {account_scoped}"), 403, "forbidden")


async def test_a_revoked_token_is_refused_once_the_revocation_arrives(
    ingest: httpx.AsyncClient,
    event: Event,
    tenant_id: str,
    token_issuer: TokenIssuer,
    kafka_settings: KafkaSettings,
) -> None:
    credential = token_issuer.issue(tenant_id=tenant_id, scopes=["ingest"])
    authorization = f"Bearer {credential.token}"
    assert (await post(ingest, event, authorization)).status_code == 202  # verified and remembered

    clients = KafkaClients(kafka_settings)
    producer = clients.producer()
    await producer.start()
    try:
        await publish_revocation(
            producer, clients, tenant_id=tenant_id, credential_id=credential.credential_id
        )
    finally:
        await producer.stop()

    async def refused() -> None:
        assert_problem(await post(ingest, event, authorization), 401, "unauthenticated", "revoked")

    await eventually(refused)


async def run_cli(*args: str, env: dict[str, str]) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tangible_runtime.credentials_cli",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    result: dict[str, Any] = json.loads(stdout)
    return result


async def test_the_cli_issues_a_working_credential_and_revokes_it(
    ingest: httpx.AsyncClient,
    event: Event,
    tenant_id: str,
    auth_keys: tuple[str, str],
    kafka_settings: KafkaSettings,
) -> None:
    env = {
        "TANGIBLE_AUTH_PRIVATE_KEY": auth_keys[0],
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": kafka_settings.topic_prefix,
    }
    issued = await run_cli("issue", "--tenant", tenant_id, "--scope", "ingest", env=env)
    authorization = f"Bearer {issued['token']}"
    assert (await post(ingest, event, authorization)).status_code == 202

    await run_cli("revoke", "--tenant", tenant_id, "--credential-id", issued["credential_id"], env=env)

    async def refused() -> None:
        assert_problem(await post(ingest, event, authorization), 401, "unauthenticated", "revoked")

    await eventually(refused)
