"""No secret in the logs, and none stored in plain text.

The services run with the production log pipeline (JSON, DEBUG) while a tenant's data is
seeded through every service (credentials, a webhook channel with its signing secret and
deliveries signed with it) and refused credentials are tried; the captured output must hold
no credential, webhook secret, signing or encryption key. Every database is then read as
its owner: webhook secrets are there only encrypted, credentials and keys not at all.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
import structlog
from sqlalchemy.engine import make_url

from tangible_runtime.auth import TokenIssuer
from tangible_runtime.logs import configure_logging
from tangible_runtime.settings import TelemetrySettings

pytestmark = pytest.mark.integration


@pytest.fixture
def production_logs() -> Iterator[io.StringIO]:
    """JSON logs at DEBUG through the services' own pipeline, into a buffer; restored after."""
    root = logging.getLogger()
    handlers, level, config = root.handlers[:], root.level, structlog.get_config()
    configure_logging(TelemetrySettings(log_level="DEBUG", log_format="json"), "secrets-test")
    buffer = io.StringIO()
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.configure(**config)
        structlog.contextvars.clear_contextvars()


class RecordingIssuer:
    """The session's issuer, remembering every credential it signed for this test."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self.issuer = issuer
        self.tokens: list[str] = []

    def __call__(self, tenant_id: str, *scopes: str, account_id: str | None = None) -> str:
        token = self.issuer.issue(
            tenant_id=tenant_id, scopes=scopes or ("admin",), account_id=account_id
        ).token
        self.tokens.append(token)
        return token


async def test_no_secret_is_logged_or_stored_in_plain_text(
    production_logs: io.StringIO,
    start_system: Any,
    started_services: dict[str, Any],
    webhook_receiver: Any,
    seed: Any,
    notifications_overrides: dict[str, Any],
    token_issuer: TokenIssuer,
    auth_keys: tuple[str, str],
    owner_url: Any,
    tenant_id: str,
) -> None:
    issue = RecordingIssuer(token_issuer)
    system = await start_system(overrides={"notifications": notifications_overrides})
    seeded = await seed(system, tenant_id, "s3cr3t", issue)
    assert any(h.get("webhook-signature") for h, _ in webhook_receiver.requests), "nothing was signed"
    expired = token_issuer.issue(tenant_id=tenant_id, scopes=("admin",), ttl=timedelta(hours=-1))
    for client in (system.ingest, system.entitlements, system.rewards, system.notifications):
        for credential in (
            expired.token,
            issue(tenant_id, "ingest"),
            "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.forged",
        ):
            await client.get(
                "/v1/accounts/acct-s3cr3t/entitlements", headers={"Authorization": f"Bearer {credential}"}
            )
    logs = production_logs.getvalue()
    assert logs.count('"level": "') >= 10, "the services' logs were not captured"

    private_key = auth_keys[0]
    key_body = "".join(line for line in private_key.splitlines() if "-----" not in line)
    secrets = {
        **{f"credential {i}": token for i, token in enumerate([*issue.tokens, expired.token])},
        "credential signature": issue.tokens[0].rsplit(".", 1)[1],
        "webhook secret": seeded.webhook_secret,
        "webhook secret key": seeded.webhook_secret.removeprefix("whsec_"),
        "signing key": key_body,
        "encryption key": notifications_overrides["secrets_key"],
    }
    leaked = sorted(name for name, value in secrets.items() if value in logs)
    assert not leaked, f"logged: {leaked}"

    for name, service in started_services.items():
        url = make_url(owner_url(service.database_url)).set(drivername="postgresql")
        connection = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            tables = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
            await connection.execute("SELECT set_config('tangible.tenant', '*', false)")
            dump = "\n".join(
                [
                    str(row[0])
                    for t in tables
                    for row in await connection.fetch(f'SELECT t::text FROM "{t[0]}" t')
                ]
            )
        finally:
            await connection.close()
        stored = sorted(n for n, value in secrets.items() if value in dump)
        assert not stored, f"{name} stores in plain text: {stored}"
        if name == "notifications":
            assert "gAAAA" in dump, "the webhook secret is not stored encrypted (Fernet)"
