"""`tangible-credentials revoke` publishes a `credential_revoked` record with trace context."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

import pytest

from tangible_devstack.testing import read_topic, records_of_type, traceparent_of
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import KafkaSettings
from tangible_schemas.registry import CREDENTIALS

pytestmark = pytest.mark.integration
REVOKED = "tangible.credentials.v1.credential_revoked"


async def test_the_revoke_command_publishes_a_record_with_a_traceparent(
    kafka_settings: KafkaSettings,
) -> None:
    """Run as an operator would, in its own process: nothing there traces unless the CLI
    sets tracing up, and the record then carried no traceparent."""
    clients = KafkaClients(kafka_settings)
    await clients.ensure_topics([CREDENTIALS])
    tenant, credential_id = f"t-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    environment = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": kafka_settings.topic_prefix,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tangible_runtime.credentials_cli",
        "revoke",
        "--tenant",
        tenant,
        "--credential-id",
        credential_id,
        env=environment,
    )
    assert await asyncio.wait_for(process.wait(), 60) == 0
    records = records_of_type(await read_topic(clients, CREDENTIALS.name), REVOKED)
    [record] = [r for r in records if credential_id.encode() in r.value]
    traceparent_of(record)
