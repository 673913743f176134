"""The handler tests' in-memory unit of work (tests/unit/fakes.py) does what the SQL one does:
one scenario through the handlers on each, the same results, reads and committed events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.notifications.tests.unit.fakes import FakeGuard, FakeSecrets, FakeSender, FakeUnitOfWork, Store
from tangible_devstack.contract import as_sent, committed, comparable
from tangible_notifications.adapters.tables import outbox
from tangible_notifications.domain import commands
from tangible_notifications.domain.errors import InboxItemNotFound
from tangible_notifications.domain.model import Channel, Preference, SourceEvent
from tangible_notifications.domain.periods import Period, PeriodKind
from tangible_notifications.domain.report_template import ReportTemplate
from tangible_notifications.domain.retry import Outcome, RetryPolicy
from tangible_notifications.service_layer import handlers, views
from tangible_notifications.service_layer.handlers import reports as report_handlers
from tangible_notifications.service_layer.handlers.delivery import Dispatch
from tangible_notifications.service_layer.ports import UnitOfWork
from tangible_notifications.service_layer.unit_of_work import UnitOfWork as SqlUnitOfWork
from tangible_runtime.db import create_engine, create_session_factory
from tangible_runtime.domain import ManualClock, NotFound

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
TENANT = "t1"
THRESHOLD = "tangible.entitlements.v1.threshold_crossed"
NOW = datetime(2026, 11, 10, 12, tzinfo=UTC)  # fixed date: a ManualClock's, never the wall clock's
POLICY = RetryPolicy(
    window=timedelta(hours=1), base=timedelta(seconds=10), cap=timedelta(minutes=5), jitter=0
)
NewUow = Callable[[], UnitOfWork]


def _crossed(event_id: str, account: str) -> SourceEvent:
    data = {"feature_key": "reports", "threshold_percent": 80, "usage": 8, "limit": 10}
    return SourceEvent(event_id, THRESHOLD, TENANT, account, data)


async def scenario(uow: NewUow) -> list[Any]:
    """A rule to the inbox, a webhook and account contacts' email; one account's preferences
    hold email for a daily digest and turn the inbox off; events (one redelivered) notified,
    delivered (the email failing once), digested; inbox items read; what the handlers return
    and the ports then read."""
    clock, seen = ManualClock(NOW), list[Any]()
    rule = commands.CreateRule(TENANT, "usage", (THRESHOLD,), (Channel.INBOX, Channel.WEBHOOK, Channel.EMAIL))
    seen.append(await handlers.create_rule(rule, uow=uow()))
    for channel in (
        commands.CreateChannel(TENANT, Channel.WEBHOOK, "ops", url="https://hooks.example/x"),
        commands.CreateChannel(TENANT, Channel.EMAIL, "contacts", to_account_contacts=True),
    ):
        made = handlers.create_channel(
            channel, uow=uow(), secrets=FakeSecrets(), guard=FakeGuard(), clock=clock
        )
        seen.append(await made)
    for preference in (
        Preference("acct-1", email="ann@acme.example"),
        Preference(
            "acct-2", email="bob@acme.example", channels={"inbox": {"*": "off"}, "email": {"*": "daily"}}
        ),
    ):
        await handlers.put_preference(commands.PutPreference(TENANT, preference), uow=uow())

    for events in ([_crossed("e1", "acct-1"), _crossed("e2", "acct-2")], [_crossed("e1", "acct-1")]):
        seen.append(
            await handlers.notify_events(commands.NotifyEvents("events", events), uow=uow(), clock=clock)
        )

    webhook, email = FakeSender(status_code=204), FakeSender(Outcome.FAILED, Outcome.SUCCEEDED)
    dispatch = Dispatch(
        {"webhook": webhook, "email": email}, POLICY, timedelta(days=5), lease=timedelta(minutes=2)
    )
    for _ in range(2):
        seen.append(await handlers.deliver_due(new_uow=uow, dispatch=dispatch, clock=clock, limit=10))
        clock.advance(timedelta(minutes=1))
    sent = [
        (j.delivery.account_id, j.delivery.channel, j.delivery.target, j.delivery.attempts)
        for j in webhook.jobs + email.jobs
    ]
    seen.append(sorted(sent))  # the order of a round's claims is not a contract
    clock.advance(timedelta(days=1))
    seen.append(await handlers.send_digests(uow=uow(), clock=clock))

    async def inbox(account: str, *, unread_only: bool = False) -> tuple[list[Any], int]:
        page = views.inbox_page(
            uow(),
            tenant_id=TENANT,
            account_id=account,
            user_id=None,
            unread_only=unread_only,
            limit=10,
            offset=0,
        )
        items, unread = await page
        return list(items), unread

    seen += [await inbox("acct-1"), await inbox("acct-2")]
    [item], _ = await inbox("acct-1")
    for account, item_id in (("acct-1", item.id), ("acct-2", item.id), ("acct-1", "nope")):
        mark = commands.MarkInboxItem(TENANT, account, item_id, read=True)
        try:
            seen.append(await handlers.mark_inbox_item(mark, uow=uow(), clock=clock))
        except InboxItemNotFound as error:  # another account's item is not found either
            seen.append(repr(error))
    seen.append(await views.unread_count(uow(), tenant_id=TENANT, account_id="acct-1", user_id=None))
    seen.append(await inbox("acct-1", unread_only=True))
    seen += await reports(uow, clock)
    log = views.delivery_log(
        uow(), tenant_id=TENANT, status=None, account_id=None, channel=None, limit=20, offset=0
    )
    # ties on created_at go by id, drawn at random in each run: the log in an order of its own
    seen.append(sorted(await log, key=lambda d: (d.account_id, d.channel, d.target, d.created_at)))
    return seen


async def reports(uow: NewUow, clock: ManualClock) -> list[Any]:
    """A report template written, read back and removed; share links made and revoked (one
    of another account's refused); what they return and what is then read."""
    seen: list[Any] = []
    template = ReportTemplate(
        primary_color="#000000", sections=("value", "usage"), wording={"de": {"intro": "Hallo"}}
    )
    await report_handlers.put_report_template(uow(), TENANT, template, clock.now())
    async with uow() as reading:
        seen.append(await reading.report_templates.get(TENANT))
    await report_handlers.delete_report_template(uow(), TENANT)
    try:
        await report_handlers.delete_report_template(uow(), TENANT)
    except NotFound as error:
        seen.append(repr(error))
    period = Period(PeriodKind.QUARTER, date(2026, 7, 1), date(2026, 9, 30))  # fixed date: a past quarter
    links = []
    for account in ("acct-1", "acct-1", "acct-2"):
        made = report_handlers.create_share_link(
            uow(),
            tenant_id=TENANT,
            account_id=account,
            period=period,
            locale="de",
            ttl=timedelta(days=30),
            now=clock.now(),
        )
        links.append(await made)
        clock.advance(timedelta(minutes=1))
    for account, link in (("acct-1", links[0]), ("acct-1", links[2]), ("acct-1", links[0])):
        try:
            revoke = report_handlers.revoke_share_link(
                uow(), tenant_id=TENANT, account_id=account, link_id=link.id, now=clock.now()
            )
            seen.append(replace(await revoke, id=f"link {links.index(link)}"))
        except NotFound:
            seen.append(f"link {links.index(link)} not found")  # another account's
        clock.advance(timedelta(minutes=1))
    async with uow() as reading:
        for account in ("acct-1", "acct-2"):
            mine = await reading.share_links.of_account(TENANT, account, limit=10, offset=0)
            seen.append([replace(k, id=f"link {[m.id for m in links].index(k.id)}") for k in mine])
    return seen


async def test_the_fake_unit_of_work_reads_and_commits_what_the_sql_one_does(
    database_factory: Any, owner_url: Any
) -> None:
    engine = create_engine(owner_url(await database_factory("notifications", MIGRATIONS)), pool_size=2)
    sessions = create_session_factory(engine)
    try:
        on_sql = await scenario(lambda: SqlUnitOfWork(sessions, outbox_table=outbox, source="tests"))
        sql = await committed(engine)
    finally:
        await engine.dispose()
    store = Store()

    on_fake = await scenario(lambda: FakeUnitOfWork(store))

    assert comparable(on_fake) == comparable(on_sql)
    assert comparable(as_sent(store.published)) == comparable(as_sent(sql.events))
    assert sql.dead_letters == []
