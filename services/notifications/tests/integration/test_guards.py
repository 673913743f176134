"""SSRF guard at configuration and at send time; an endpoint failing for 5 days is disabled."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

import pytest

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.testing import eventually
from tangible_runtime.domain import ManualClock
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import KafkaSettings
from tangible_schemas import from_record
from tangible_schemas.notifications import EndpointDisabled
from tangible_schemas.registry import NOTIFICATIONS

pytestmark = pytest.mark.integration

CROSSED = "tangible.entitlements.v1.threshold_crossed"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.7/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "ftp://example.com/hook",
    ],
)
async def test_private_loopback_and_link_local_targets_are_refused(
    url: str, start: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    api = await start(allow_private_targets=False, roles=("api",))
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    response = await api.post(
        "/v1/channels", json={"kind": "webhook", "name": "x", "url": url}, headers=admin
    )
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("target-refused")


async def test_a_target_that_became_private_is_refused_at_send_time(
    crossed: Any, start: Any, receiver: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    """Configured while private targets were allowed, sent by a replica that refuses them:
    the guard runs on every send, on the address actually connected to."""
    hook, url = await receiver()
    api = await start(roles=("api",))
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    await api.post("/v1/channels", json={"kind": "webhook", "name": "x", "url": url}, headers=admin)
    await api.post(
        "/v1/rules", json={"name": "r", "event_types": [CROSSED], "channels": ["webhook"]}, headers=admin
    )
    await start(allow_private_targets=False, roles=("consumer", "delivery", "relay"))
    await publish(crossed(tenant_id, 80))

    async def refused() -> dict[str, Any]:
        items = (await api.get("/v1/deliveries", params={"status": "failed"}, headers=admin)).json()["items"]
        assert len(items) == 1, items
        return dict(items[0])

    delivery = await eventually(refused, timeout=20)
    assert delivery["attempt_log"][0]["outcome"] == "refused"
    assert "loopback" in delivery["last_error"]
    assert hook.requests == []


async def test_an_endpoint_failing_for_five_days_is_disabled_and_the_tenant_told(
    crossed: Any,
    start: Any,
    receiver: Any,
    smtp: Any,
    publish: Any,
    issue_token: IssueToken,
    tenant_id: str,
    clock: ManualClock,
    kafka_settings: KafkaSettings,
) -> None:
    hook, url = await receiver(statuses=[500])
    port, mailbox = await smtp()
    api = await start(smtp_port=port)
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    endpoint = (
        await api.post("/v1/channels", json={"kind": "webhook", "name": "crm", "url": url}, headers=admin)
    ).json()
    ops = {"kind": "email", "name": "ops", "recipients": ["ops@vendor.example"]}
    assert (await api.post("/v1/channels", json=ops, headers=admin)).status_code == 201
    await api.post(
        "/v1/rules", json={"name": "r", "event_types": [CROSSED], "channels": ["webhook"]}, headers=admin
    )

    async def logged(n: int) -> None:
        # the attempt is recorded (by the clock at that moment) before the test moves time on
        items = (await api.get("/v1/deliveries", params={"limit": 500}, headers=admin)).json()["items"]
        assert sum(len(d["attempt_log"]) for d in items) >= n

    await publish(crossed(tenant_id, 50))
    await eventually(lambda: logged(1), timeout=20)
    for day in range(5):  # a day at a time: retries keep failing, the streak keeps its start
        clock.advance(timedelta(days=1))
        seen = len(hook.requests)
        await publish(crossed(tenant_id, 51 + day))
        await eventually(functools.partial(_at_least, hook, seen + 1), timeout=20)
        await eventually(functools.partial(logged, seen + 1), timeout=20)

    async def disabled() -> dict[str, Any]:
        body = (await api.get(f"/v1/channels/{endpoint['id']}", headers=admin)).json()
        assert body["enabled"] is False, body
        return dict(body)

    assert (await eventually(disabled, timeout=20))["disabled_reason"] == "failing for 5 days"
    [notice] = await eventually(lambda: _mails(mailbox, 1), timeout=20)
    assert notice["Subject"] == "Webhook endpoint disabled: crm"
    event = await eventually(lambda: _endpoint_disabled(kafka_settings), timeout=20)
    assert event.endpoint_id == endpoint["id"] and event.tenant_id == tenant_id


async def _at_least(hook: Any, n: int) -> None:
    assert len(hook.requests) >= n


async def _mails(mailbox: Any, n: int) -> list[Any]:
    assert len(mailbox.messages) == n
    return list(mailbox.messages)


async def _endpoint_disabled(kafka_settings: KafkaSettings) -> EndpointDisabled:
    clients = KafkaClients(kafka_settings)
    consumer = clients.consumer(NOTIFICATIONS.name, group=None)
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=1000)
        for records in batches.values():
            for record in records:
                data = from_record(list(record.headers), record.value).data
                if isinstance(data, EndpointDisabled):
                    return data
    finally:
        await consumer.stop()
    raise AssertionError("no endpoint_disabled event yet")
