"""Webhooks on real Kafka and PostgreSQL with a real HTTP receiver on loopback."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from standardwebhooks.webhooks import Webhook

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.testing import eventually, read_topic, records_of_type, traceparent_of
from tangible_runtime.domain import ManualClock
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.settings import KafkaSettings
from tangible_schemas.entitlements import Evidence, RenewalAtRisk

pytestmark = pytest.mark.integration


T = TypeVar("T")


def only(items: list[T]) -> T:
    assert len(items) == 1, items
    return items[0]


THRESHOLD = "tangible.entitlements.v1.threshold_crossed"
NOTIFICATIONS = "tangible.notifications.v1"
DELIVERED = "tangible.notifications.v1.notification_delivered"


async def webhook_setup(api: httpx.AsyncClient, admin: dict[str, str], url: str) -> dict[str, Any]:
    channel = await api.post(
        "/v1/channels", json={"kind": "webhook", "name": "ops", "url": url}, headers=admin
    )
    assert channel.status_code == 201, channel.text
    rule = await api.post(
        "/v1/rules",
        json={"name": "thresholds", "event_types": [THRESHOLD], "channels": ["webhook"]},
        headers=admin,
    )
    assert rule.status_code == 201, rule.text
    return dict(channel.json())


async def deliveries(api: httpx.AsyncClient, admin: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = await api.get("/v1/deliveries", params=params, headers=admin)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_webhook_verifies_with_the_standardwebhooks_reference_library_also_during_rotation(
    crossed: Any, start: Any, receiver: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    api = await start()
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    hook, url = await receiver()
    channel = await webhook_setup(api, admin, url)
    old_secret = channel["secret"]
    assert old_secret.startswith("whsec_")

    await publish(crossed(tenant_id))
    await eventually(lambda: _count(hook, 1), timeout=20)
    first = hook.requests[0]
    payload = Webhook(old_secret).verify(first.body, first.headers)
    assert payload["type"] == THRESHOLD
    assert payload["data"]["account_id"] == "acct-1"
    assert payload["data"]["event"]["data"]["threshold_percent"] == 80
    assert first.headers["webhook-id"] == payload["data"]["notification_id"]

    rotated = await api.post(
        f"/v1/channels/{channel['id']}/secret/rotate", json={"overlap_hours": 24}, headers=admin
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    await publish(crossed(tenant_id, 100))
    await eventually(lambda: _count(hook, 2), timeout=20)
    second = hook.requests[1]
    assert len(second.headers["webhook-signature"].split(" ")) == 2  # both secrets sign during the overlap
    Webhook(new_secret).verify(second.body, second.headers)
    Webhook(old_secret).verify(second.body, second.headers)


async def _count(hook: Any, n: int) -> None:
    assert len(hook.requests) == n, len(hook.requests)


async def test_a_failing_receiver_gets_the_message_once_more_and_never_again_after_success(
    crossed: Any,
    start: Any,
    receiver: Any,
    publish: Any,
    issue_token: IssueToken,
    tenant_id: str,
    clock: ManualClock,
) -> None:
    api = await start()
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    hook, url = await receiver(statuses=[503, 200], headers={"Retry-After": "120"})
    await webhook_setup(api, admin, url)
    first_attempt = clock.now()
    await publish(crossed(tenant_id))
    await eventually(lambda: _count(hook, 1), timeout=20)

    async def waiting() -> dict[str, Any]:
        delivery = only(await deliveries(api, admin))
        assert delivery["status"] == "pending" and len(delivery["attempt_log"]) == 1
        return delivery

    delivery = await eventually(waiting)
    # Retry-After (120 s) wins over the first backoff step (about 5 s)
    next_at = datetime.fromisoformat(delivery["next_attempt_at"])
    assert next_at >= first_attempt + timedelta(seconds=120)
    assert delivery["attempt_log"][0]["status_code"] == 503

    clock.advance(timedelta(seconds=121))
    await eventually(lambda: _count(hook, 2), timeout=20)

    async def delivered() -> dict[str, Any]:
        d = only(await deliveries(api, admin, status="succeeded"))
        return d

    done = await eventually(delivered)
    assert [a["outcome"] for a in done["attempt_log"]] == ["failed", "succeeded"]
    assert hook.requests[0].headers["webhook-id"] == hook.requests[1].headers["webhook-id"]

    clock.advance(timedelta(days=2))  # nothing is due any more: a third request would be a bug
    marker_hook, marker_url = await receiver()
    await api.post(
        "/v1/channels", json={"kind": "webhook", "name": "marker", "url": marker_url}, headers=admin
    )
    await publish(crossed(tenant_id, 100))
    await eventually(lambda: _count(marker_hook, 1), timeout=20)
    assert len([r for r in hook.requests if r.headers["webhook-id"] == done["id"]]) == 2


async def test_a_redelivered_source_event_makes_no_second_notification(
    crossed: Any, start: Any, receiver: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    api = await start()
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    hook, url = await receiver()
    await webhook_setup(api, admin, url)
    event = crossed(tenant_id)
    await publish(event, event_id="evt-once")
    await publish(event, event_id="evt-once")  # at-least-once upstream: the same event again
    await publish(crossed(tenant_id, 100), event_id="evt-marker")
    await eventually(lambda: _count(hook, 2), timeout=20)
    assert len(await deliveries(api, admin)) == 2
    ids = [r.headers["webhook-id"] for r in hook.requests]
    assert len(set(ids)) == 2


DISABLED_TOTAL = "notifications_endpoints_disabled_total"


async def disabled_count(api: httpx.AsyncClient, reason: str) -> float:
    """`notifications_endpoints_disabled_total{reason=…}` as /metrics exposes it."""
    body = (await api.get("/metrics")).text
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == DISABLED_TOTAL and sample.labels == {"reason": reason}:
                return float(sample.value)
    raise AssertionError("notifications_endpoints_disabled_total is not exported")


async def test_410_disables_the_endpoint_and_manual_resend_sends_again(
    crossed: Any, start: Any, receiver: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    api = await start()
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    hook, url = await receiver(statuses=[410, 200])
    channel = await webhook_setup(api, admin, url)
    assert await disabled_count(api, "gone") == 0
    await publish(crossed(tenant_id))

    async def disabled() -> dict[str, Any]:
        response = await api.get(f"/v1/channels/{channel['id']}", headers=admin)
        assert response.json()["enabled"] is False, response.json()
        return dict(response.json())

    assert "410" in (await eventually(disabled, timeout=20))["disabled_reason"]
    # the operator's alert (TangibleWebhookEndpointDisabled) reads this counter, which moves
    # once the disabling has committed (a moment after the channel reads as disabled)

    async def counted() -> None:
        assert await disabled_count(api, "gone") == 1

    await eventually(counted)
    assert await disabled_count(api, "failing") == 0
    [failed] = await eventually(lambda: _failed(api, admin))
    refused = await api.post(f"/v1/deliveries/{failed['id']}/resend", headers=admin)
    assert refused.status_code == 409

    enabled = await api.patch(f"/v1/channels/{channel['id']}", json={"enabled": True}, headers=admin)
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    resent = await api.post(f"/v1/deliveries/{failed['id']}/resend", headers=admin)
    assert resent.status_code == 202, resent.text
    await eventually(lambda: _count(hook, 2), timeout=20)
    assert hook.requests[1].headers["webhook-id"] == failed["id"]


async def _failed(api: httpx.AsyncClient, admin: dict[str, str]) -> list[dict[str, Any]]:
    found = await deliveries(api, admin, status="failed")
    assert found
    return found


async def test_customer_success_signals_reach_the_csm_channel_only(
    start: Any, receiver: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    api = await start()
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    csm_hook, csm_url = await receiver()
    ops_hook, ops_url = await receiver()
    csm = {"kind": "webhook", "name": "customer success", "url": csm_url, "purpose": "csm"}
    assert (await api.post("/v1/channels", json=csm, headers=admin)).status_code == 201
    await webhook_setup(api, admin, ops_url)  # a standard endpoint with a threshold rule
    signal = RenewalAtRisk(
        tenant_id=tenant_id,
        account_id="acct-9",
        license_id="lic-9",
        renewal_date=date(2027, 1, 1),
        decline_percent=42.0,
        evidence=[Evidence(feature_key="reports", usage=12)],
    )
    await publish(signal)
    await eventually(lambda: _count(csm_hook, 1), timeout=20)
    payload = json.loads(csm_hook.requests[0].body)
    assert payload["type"] == "tangible.entitlements.v1.renewal_risk_detected"
    assert payload["data"]["title"] == "Renewal at risk: account acct-9"
    assert payload["data"]["priority"] == "high" and payload["data"]["category"] == "signals"
    assert ops_hook.requests == []


async def test_two_delivery_replicas_send_each_message_once(
    crossed: Any, start: Any, receiver: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    api = await start()
    await start(roles=("delivery",))  # a second replica on the same database
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    hook, url = await receiver()
    await webhook_setup(api, admin, url)
    for i in range(30):
        await publish(crossed(tenant_id, 50 + i, account=f"acct-{i % 3}"))

    async def all_sent() -> None:
        succeeded = await deliveries(api, admin, status="succeeded", limit="100")
        assert len(succeeded) == 30

    await eventually(all_sent, timeout=30)
    ids = [r.headers["webhook-id"] for r in hook.requests]
    assert len(ids) == 30 and len(set(ids)) == 30


async def test_a_webhook_is_stamped_by_the_service_clock_and_its_delivered_event_carries_a_trace(
    crossed: Any,
    start: Any,
    receiver: Any,
    publish: Any,
    issue_token: IssueToken,
    tenant_id: str,
    clock: ManualClock,
    kafka_settings: KafkaSettings,
) -> None:
    """The delivery worker is scheduled work: its round starts a trace and each send a span,
    whose context the `notification_delivered` record carries (published here without any
    traceparent on the source event, as a producer that traces nothing would)."""
    clock.advance(timedelta(minutes=2))  # within the receiver's tolerance, but not the wall clock
    api = await start()
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    hook, url = await receiver()
    await webhook_setup(api, admin, url)
    await publish(crossed(tenant_id))
    await eventually(lambda: _count(hook, 1), timeout=20)
    assert hook.requests[0].headers["webhook-timestamp"] == str(int(clock.now().timestamp()))

    async def delivered() -> list[Any]:
        records = records_of_type(await read_topic(KafkaClients(kafka_settings), NOTIFICATIONS), DELIVERED)
        mine = [r for r in records if ("ce_tenantid", tenant_id.encode()) in r.headers]
        assert len(mine) == 1, mine
        return mine

    [record] = await eventually(delivered, timeout=20)
    traceparent_of(record)
