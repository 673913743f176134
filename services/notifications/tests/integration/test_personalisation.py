"""Renewal reminders and quarterly summaries carry the account's own figures, read over HTTP
from the entitlements and rewards contracts (served on loopback), or a fallback text."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tangible_devstack.processes import free_port
from tangible_devstack.pytest_plugin import IssueToken
from tangible_devstack.testing import eventually
from tangible_runtime.domain import ManualClock
from tangible_schemas.entitlements import LicenseCreated, RenewalDue

pytestmark = pytest.mark.integration

RENEWAL = "tangible.entitlements.v1.renewal_due_announced"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def license_created(tenant_id: str, account: str = "acct-1") -> LicenseCreated:
    return LicenseCreated(
        tenant_id=tenant_id,
        account_id=account,
        license_id="lic-1",
        status="active",
        plan_key="starter",
        plan_version=1,
        term_start=date(2026, 1, 1),
        term_end=date(2027, 1, 1),
        seats=5,
    )


def renewal_due(tenant_id: str, renewal_date: date = date(2026, 12, 26), lead_days: int = 30) -> RenewalDue:
    """By default announced on time: NOW is 30 days before the renewal."""
    return RenewalDue(
        tenant_id=tenant_id,
        account_id="acct-1",
        license_id="lic-1",
        renewal_date=renewal_date,
        lead_days=lead_days,
        late=(renewal_date - NOW.date()).days < lead_days,
    )


async def inbox(api: httpx.AsyncClient, token: str, n: int) -> list[dict[str, Any]]:
    response = await api.get("/v1/accounts/acct-1/inbox", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    items = list(response.json()["items"])
    assert len(items) == n, items
    return items


async def setup_rule(api: httpx.AsyncClient, admin: dict[str, str], channels: list[str]) -> None:
    rule = {"name": "renewals", "event_types": [RENEWAL], "channels": channels}
    assert (await api.post("/v1/rules", json=rule, headers=admin)).status_code == 201


async def test_a_renewal_reminder_tells_the_account_its_usage_impact_and_rewards(
    start: Any, contracts: Any, smtp: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    stub, entitlements_url, rewards_url = contracts
    port, mailbox = await smtp()
    api = await start(
        clock=ManualClock(NOW), entitlements_url=entitlements_url, rewards_url=rewards_url, smtp_port=port
    )
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    await api.post(
        "/v1/channels",
        json={"kind": "email", "name": "csm", "recipients": ["am@vendor.example"]},
        headers=admin,
    )
    await setup_rule(api, admin, ["inbox", "email"])
    await publish(license_created(tenant_id))
    await publish(renewal_due(tenant_id))

    [item] = await eventually(
        lambda: inbox(api, issue_token(tenant_id, "read", account_id="acct-1"), 1), timeout=20
    )
    assert item["title"] == "Your renewal is 30 days away"
    assert (
        "This term your team generated 1,240 reports, ~310 hours saved, and earned 2 rewards." in item["body"]
    )
    assert "You have 150 credits to spend." in item["body"]
    assert "Renewing keeps Reports." in item["body"]
    assert "New when you renew:\n• Reports: limit raised from 10 to 50." in item["body"]
    # the term comes from the license_created event; reads use account-scoped tokens
    usage_paths = [path for _, _, path in stub.seen if "/usage?" in path]
    assert usage_paths == ["/v1/accounts/acct-1/usage?from=2026-01-01&to=2026-11-26&granularity=month"]
    assert all(tenant == tenant_id and account == "acct-1" for tenant, account, _ in stub.seen)

    async def mailed() -> Any:
        assert len(mailbox.messages) == 1
        return mailbox.messages[0]

    message = await eventually(mailed, timeout=20)
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    assert "1,240 reports" in text and "~310 hours saved" in text and "earned 2 rewards" in text


async def test_the_reminder_falls_back_to_plain_text_when_entitlements_is_down(
    start: Any, contracts: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    _, _, rewards_url = contracts
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    api = await start(clock=ManualClock(NOW), entitlements_url=down, rewards_url=rewards_url)
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    await setup_rule(api, admin, ["inbox"])
    await publish(renewal_due(tenant_id))
    [item] = await eventually(lambda: inbox(api, issue_token(tenant_id, "read"), 1), timeout=20)
    assert item["title"] == "Your renewal is 30 days away"
    assert "Your license renews on 2026-12-26." in item["body"]
    assert "We could not gather your figures just now." in item["body"]
    assert "reports" not in item["body"]


async def test_a_late_reminder_states_the_days_really_left_not_its_lead_time(
    start: Any, contracts: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    """Announced late (renewal in 20 days, lead time 30): the message counts from the
    renewal date and the service's clock, and from the moment it is composed."""
    _, entitlements_url, rewards_url = contracts
    api = await start(clock=ManualClock(NOW), entitlements_url=entitlements_url, rewards_url=rewards_url)
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    await setup_rule(api, admin, ["inbox"])
    await publish(renewal_due(tenant_id, renewal_date=NOW.date() + timedelta(days=20), lead_days=30))
    [item] = await eventually(lambda: inbox(api, issue_token(tenant_id, "read"), 1), timeout=20)
    assert item["title"] == "Your renewal is 20 days away"
    assert f"Your license renews on {(NOW.date() + timedelta(days=20)).isoformat()}." in item["body"]


async def test_quarterly_summaries_go_once_per_account_for_opted_in_tenants_even_after_downtime(
    start: Any, contracts: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    stub, entitlements_url, rewards_url = contracts
    clock = ManualClock(datetime(2026, 9, 30, 12, 0, tzinfo=UTC))
    api = await start(clock=clock, entitlements_url=entitlements_url, rewards_url=rewards_url)
    # a second scheduler replica: the advisory lock and the run marker keep it to one summary
    await start(clock=clock, roles=("scheduler",))
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    settings = {"quarterly_summary": True, "quarterly_channels": ["inbox"]}
    assert (await api.put("/v1/settings", json=settings, headers=admin)).status_code == 200
    await setup_rule(api, admin, ["inbox"])
    await publish(license_created(tenant_id))  # notifications now knows the account
    await publish(renewal_due(tenant_id))
    reader = issue_token(tenant_id, "read")
    await eventually(lambda: inbox(api, reader, 1), timeout=20)

    clock.set(datetime(2026, 10, 4, 8, 0, tzinfo=UTC))  # the scheduler "was down" on 1 October
    items = await eventually(lambda: inbox(api, reader, 2), timeout=20)
    summary = items[0]
    assert summary["title"] == "Your quarter in review: 2026-Q3"
    assert "Here is what your team achieved from 2026-07-01 to 2026-09-30." in summary["body"]
    assert "This quarter your team generated 1,240 reports" in summary["body"]
    assert summary["category"] == "summary"
    assert any("/usage?from=2026-07-01&to=2026-09-30" in path for _, _, path in stub.seen), stub.seen
    await asyncio.sleep(0.5)  # several scheduler ticks later: still one summary
    clock.set(datetime(2026, 10, 5, 8, 0, tzinfo=UTC))
    await asyncio.sleep(0.5)
    assert len(await inbox(api, reader, 2)) == 2


async def test_the_quarterly_summary_carries_its_share_link_and_pdf_by_webhook_and_email(
    start: Any,
    contracts: Any,
    publish: Any,
    receiver: Any,
    smtp: Any,
    issue_token: IssueToken,
    tenant_id: str,
) -> None:
    _, entitlements_url, rewards_url = contracts
    hook, hook_url = await receiver()
    port, mailbox = await smtp()
    clock = ManualClock(datetime(2026, 9, 30, 12, 0, tzinfo=UTC))
    api = await start(
        clock=clock,
        entitlements_url=entitlements_url,
        rewards_url=rewards_url,
        smtp_port=port,
        public_url="https://reports.example.com",
    )
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    for channel in (
        {"kind": "webhook", "name": "crm", "url": hook_url},
        {"kind": "email", "name": "csm", "recipients": ["am@vendor.example"]},
    ):
        assert (await api.post("/v1/channels", json=channel, headers=admin)).status_code == 201
    settings = {"quarterly_summary": True, "quarterly_channels": ["webhook", "email"]}
    assert (await api.put("/v1/settings", json=settings, headers=admin)).status_code == 200
    await setup_rule(api, admin, ["inbox"])
    await publish(license_created(tenant_id))  # notifications now knows the account
    await publish(renewal_due(tenant_id))  # behind it: once in the inbox, the account is known
    await eventually(lambda: inbox(api, issue_token(tenant_id, "read"), 1), timeout=20)
    clock.set(datetime(2026, 10, 1, 8, 0, tzinfo=UTC))  # the quarter has ended

    async def hooked() -> dict[str, Any]:
        [request] = [r for r in hook.requests if b"quarterly_summary" in r.body]
        return dict(json.loads(request.body))

    payload = await eventually(hooked, timeout=20)
    assert payload["type"] == "tangible.notifications.quarterly_summary"
    body = payload["data"]["body"]
    [url] = [
        w
        for w in body.split()
        if w.startswith("https://reports.example.com/v1/shared-reports/") and "?" not in w
    ]
    assert f"PDF: {url}?format=pdf" in body, body
    assert "• ≈ 310 hours saved" in body and "• 1,240 Reports" in body, body
    # the link opens the report without a login
    shared = await api.get(url.removeprefix("https://reports.example.com"))
    assert shared.status_code == 200 and shared.headers["content-type"].startswith("text/html")

    async def mailed() -> Any:
        [message] = mailbox.messages
        return message

    message = await eventually(mailed, timeout=20)
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    links = {
        w.split("?")[0]
        for w in text.split()
        if w.startswith("https://reports.example.com/v1/shared-reports/")
    }
    assert links == {url}  # one share link per account and quarter, in every channel
    assert f"PDF: {url}?format=pdf" in text, text


async def test_a_german_accounts_renewal_reminder_and_quarterly_summary_arrive_in_german(
    start: Any, contracts: Any, publish: Any, issue_token: IssueToken, tenant_id: str
) -> None:
    stub, entitlements_url, rewards_url = contracts
    clock = ManualClock(datetime(2026, 9, 30, 12, 0, tzinfo=UTC))
    api = await start(
        clock=clock,
        entitlements_url=entitlements_url,
        rewards_url=rewards_url,
        public_url="https://reports.example.com",
    )
    admin = {"Authorization": f"Bearer {issue_token(tenant_id, 'admin')}"}
    settings = {"quarterly_summary": True, "quarterly_channels": ["inbox"]}
    assert (await api.put("/v1/settings", json=settings, headers=admin)).status_code == 200
    german = await api.put("/v1/accounts/acct-1/preferences", json={"locale": "de"}, headers=admin)
    assert german.status_code == 200, german.text
    await setup_rule(api, admin, ["inbox"])
    await publish(license_created(tenant_id))
    await publish(renewal_due(tenant_id))  # renews on 2026-12-26: 87 days after the clock's day
    reader = issue_token(tenant_id, "read")

    [reminder] = await eventually(lambda: inbox(api, reader, 1), timeout=20)
    assert reminder["title"] == "Ihre Verlängerung ist in 87 Tagen"
    body = reminder["body"]
    assert body.startswith("Ihre Lizenz verlängert sich am 26.12.2026.\n\n"), body
    assert (
        "In dieser Laufzeit hat Ihr Team erreicht: 1.240 Reports, ~310 hours saved und 2 Prämien." in body
    ), body
    assert "Sie haben 150 Punkte Guthaben." in body and "Mit der Verlängerung behalten Sie Reports." in body
    # what's new, asked of entitlements in German
    assert "Neu bei Ihrer Verlängerung:\n• Reports: Limit erhöht von 10 auf 50." in body, body
    assert any("/whats-new?locale=de" in path for _, _, path in stub.seen), stub.seen

    clock.set(datetime(2026, 10, 4, 8, 0, tzinfo=UTC))  # the quarter has ended
    summary, _ = await eventually(lambda: inbox(api, reader, 2), timeout=60)  # the report's reads too
    assert summary["title"] == "Ihr Quartal im Rückblick: 2026-Q3"
    body = summary["body"]
    assert body.startswith("Das hat Ihr Team vom 01.07.2026 bis zum 30.09.2026 erreicht.\n\n"), body
    assert "In diesem Quartal hat Ihr Team erreicht: 1.240 Reports" in body, body
    assert "• ≈ 310 hours saved" in body and "• 1.240 Reports" in body, body  # the report's headline
    assert "Ihr vollständiger Bericht, zum Weitergeben an Ihre Geschäftsleitung (ohne Anmeldung): " in body
    [url] = [
        w
        for w in body.split()
        if w.startswith("https://reports.example.com/v1/shared-reports/") and "?" not in w
    ]
    assert f"PDF: {url}?format=pdf" in body
    shared = await api.get(url.removeprefix("https://reports.example.com"))
    assert shared.status_code == 200 and "Wirkungsbericht" in shared.text  # the link, in German too
