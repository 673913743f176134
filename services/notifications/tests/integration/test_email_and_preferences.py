"""Email over a real SMTP server (aiosmtpd), digests and quiet hours by a controllable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.testing import eventually
from tangible_runtime.domain import ManualClock
from tangible_schemas.entitlements import ThresholdRecovered

pytestmark = pytest.mark.integration


def only(items: list[Any]) -> Any:
    assert len(items) == 1, items
    return items[0]


CROSSED = "tangible.entitlements.v1.threshold_crossed"
RECOVERED = "tangible.entitlements.v1.threshold_recovered"


def recovered(tenant_id: str) -> ThresholdRecovered:
    return ThresholdRecovered(
        tenant_id=tenant_id,
        account_id="acct-1",
        feature_key="reports",
        threshold_percent=80,
        usage=1,
        limit=10,
        period_start=datetime(2026, 12, 1, tzinfo=UTC),
    )


async def post(
    api: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await api.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def mails(mailbox: Any, n: int) -> list[Any]:
    assert len(mailbox.messages) == n, [m["Subject"] for m in mailbox.messages]
    return list(mailbox.messages)


def parts(message: Any) -> dict[str, str]:
    return {p.get_content_type(): str(p.get_content()) for p in message.walk() if not p.is_multipart()}


async def test_an_email_arrives_with_text_and_html_parts_after_a_temporary_smtp_failure(
    crossed: Any,
    start: Any,
    smtp: Any,
    publish: Any,
    issue_token: IssueToken,
    tenant_id: str,
    clock: ManualClock,
) -> None:
    port, mailbox = await smtp(temporary_failures=1)
    api = await start(smtp_port=port)
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    await post(
        api,
        "/v1/channels",
        {
            "kind": "email",
            "name": "ops",
            "sender": "Acme <success@acme.example>",
            "recipients": ["ops@acme.example"],
        },
        admin,
    )
    await post(api, "/v1/rules", {"name": "usage", "event_types": [CROSSED], "channels": ["email"]}, admin)
    await publish(crossed(tenant_id, 80))

    async def retrying() -> None:
        d = only((await api.get("/v1/deliveries", headers=admin)).json()["items"])
        assert d["status"] == "pending" and len(d["attempt_log"]) == 1, d
        assert d["attempt_log"][0]["status_code"] == 451, d

    await eventually(retrying, timeout=20)  # 451 is temporary: retried, not failed
    clock.advance(timedelta(minutes=5))
    [message] = await eventually(lambda: mails(mailbox, 1), timeout=20)
    assert message["Subject"] == "You have used 80 % of your reports allowance"
    assert message["From"] == "Acme <success@acme.example>"
    assert mailbox.envelopes == [["ops@acme.example"]]
    found = parts(message)
    assert "Your team has used 8 of 10 this period." in found["text/plain"]
    assert "<h1>You have used 80 % of your reports allowance</h1>" in found["text/html"]


async def test_low_priority_items_wait_for_the_daily_digest_and_critical_ones_bypass_it(
    crossed: Any, start: Any, smtp: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    port, mailbox = await smtp()
    clock = ManualClock(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))  # 11:00 in Paris
    api = await start(clock=clock, smtp_port=port)
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    await post(
        api, "/v1/channels", {"kind": "email", "name": "customers", "to_account_contacts": True}, admin
    )
    await post(
        api,
        "/v1/rules",
        {"name": "usage", "event_types": [CROSSED], "channels": ["email"], "priority": "low"},
        admin,
    )
    await post(
        api,
        "/v1/rules",
        {
            "name": "back",
            "event_types": [RECOVERED],
            "channels": ["email"],
            "priority": "critical",
            "category": "usage",
        },
        admin,
    )
    reader = {"Authorization": f"Bearer {issue_token(tenant_id, 'read', account_id='acct-1')}"}
    preference = {
        "email": "lead@acme.example",
        "timezone": "Europe/Paris",
        "channels": {"email": {"usage": "daily"}},
    }
    assert (
        await api.put("/v1/accounts/acct-1/preferences", json=preference, headers=reader)
    ).status_code == 200

    await publish(crossed(tenant_id, 50))
    await publish(crossed(tenant_id, 80))
    await publish(recovered(tenant_id))
    [critical] = await eventually(lambda: mails(mailbox, 1), timeout=20)
    assert critical["Subject"] == "Your reports allowance is back under 80 %"

    clock.set(datetime(2026, 11, 27, 7, 0, 1, tzinfo=UTC))  # 08:00 in Paris: digest time
    _, digest = await eventually(lambda: mails(mailbox, 2), timeout=20)
    assert digest["Subject"] == "Your daily digest: 2 updates"
    text = parts(digest)["text/plain"]
    assert "You have used 50 % of your reports allowance" in text
    assert "You have used 80 % of your reports allowance" in text
    assert mailbox.envelopes[1] == ["lead@acme.example"]


async def test_quiet_hours_hold_email_until_morning_in_the_recipients_time_zone(
    crossed: Any, start: Any, smtp: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    port, mailbox = await smtp()
    clock = ManualClock(datetime(2026, 11, 26, 21, 30, tzinfo=UTC))  # 22:30 in Paris
    api = await start(clock=clock, smtp_port=port)
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    await post(
        api, "/v1/channels", {"kind": "email", "name": "customers", "to_account_contacts": True}, admin
    )
    await post(api, "/v1/rules", {"name": "usage", "event_types": [CROSSED], "channels": ["email"]}, admin)
    await post(
        api,
        "/v1/rules",
        {"name": "back", "event_types": [RECOVERED], "channels": ["email"], "priority": "critical"},
        admin,
    )
    preference = {
        "email": "lead@acme.example",
        "timezone": "Europe/Paris",
        "quiet_hours": {"start": "22:00", "end": "07:00"},
    }
    assert (
        await api.put("/v1/accounts/acct-1/preferences", json=preference, headers=admin)
    ).status_code == 200

    await publish(crossed(tenant_id, 80))
    await publish(recovered(tenant_id))
    [critical] = await eventually(lambda: mails(mailbox, 1), timeout=20)
    assert critical["Subject"].startswith("Your reports allowance is back")

    async def held() -> dict[str, Any]:
        d = only(
            (await api.get("/v1/deliveries", params={"status": "pending"}, headers=admin)).json()["items"]
        )
        return dict(d)

    waiting = await eventually(held)
    assert datetime.fromisoformat(waiting["next_attempt_at"]) == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    assert waiting["attempts"] == 0
    clock.set(datetime(2026, 11, 27, 6, 0, tzinfo=UTC))  # 07:00 in Paris
    _, morning = await eventually(lambda: mails(mailbox, 2), timeout=20)
    assert morning["Subject"] == "You have used 80 % of your reports allowance"


async def test_an_email_channel_has_no_secret_to_rotate(
    start: Any, smtp: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    port, _ = await smtp()
    api = await start(smtp_port=port)
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    channel = await post(
        api, "/v1/channels", {"kind": "email", "name": "customers", "to_account_contacts": True}, admin
    )

    refused = await api.post(
        f"/v1/channels/{channel['id']}/secret/rotate", json={"overlap_hours": 1}, headers=admin
    )
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"].endswith("/channel-has-no-secret")
    assert problem["title"] == "email channels have no secret" and problem["kind"] == "email"

    missing = await api.post(
        "/v1/channels/00000000-0000-0000-0000-000000000000/secret/rotate",
        json={"overlap_hours": 1},
        headers=admin,
    )
    assert missing.status_code == 404 and missing.json()["type"].endswith("/channel-not-found")
