"""The consumer's and the scheduler's handlers on in-memory fakes: events matched by rules
become one notification per (event, rule, recipient, channel), once however often they are
replayed; preferences drop or hold what they govern, critical notices go through; held
notifications go out as one digest."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.notifications.tests.unit.fakes import FakeUnitOfWork, Store
from services.notifications.tests.unit.scenario import (
    TENANT,
    add_channel,
    add_rule,
    add_webhook,
    crossed,
    notify,
)
from tangible_notifications.domain import commands
from tangible_notifications.domain.model import Channel, Preference, Priority
from tangible_notifications.service_layer import handlers
from tangible_runtime.domain import ManualClock
from tangible_schemas.notifications import NotificationDelivered


def by_channel(store: Store) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for n in store.notifications.values():
        found.setdefault(n.channel, []).append(n.status)
    return found


async def test_an_event_makes_one_notification_per_rule_recipient_and_channel_once_however_replayed(
    store: Store, clock: ManualClock
) -> None:
    await add_rule(store, Channel.INBOX, Channel.WEBHOOK)
    await add_rule(store, Channel.EMAIL)
    await add_webhook(store, clock)
    two = ("a@acme.example", "b@acme.example")
    await add_channel(store, clock, commands.CreateChannel(TENANT, Channel.EMAIL, "team", recipients=two))

    due = await notify(store, clock, crossed())

    assert due == 3  # the webhook and two emails; the inbox is delivered at once
    assert by_channel(store) == {
        "inbox": ["delivered"],
        "webhook": ["pending"],
        "email": ["pending", "pending"],
    }
    assert sorted(d.target for d in store.deliveries.values() if d.channel == "email") == list(two)
    assert [i.title for i in store.inbox.values()] == ["You have used 80 % of your reports allowance"]
    assert [type(e) for e in store.published] == [NotificationDelivered]

    # the same event again, redelivered to the consumer and even under another consumer name
    assert await notify(store, clock, crossed()) == 0
    assert await notify(store, clock, crossed(), consumer="replayed") == 0
    assert len(store.notifications) == 4 and len(store.deliveries) == 4 and len(store.inbox) == 1
    assert len(store.published) == 1


async def test_a_batch_that_fails_leaves_nothing_behind(store: Store, clock: ManualClock) -> None:
    await add_rule(store, Channel.INBOX)
    uow = FakeUnitOfWork(store)

    async def broken(*args: object) -> None:
        raise ConnectionResetError("connection reset by peer")

    uow.preferences.for_accounts = broken  # type: ignore[assignment,method-assign]
    with pytest.raises(ConnectionResetError):
        await handlers.notify_events(commands.NotifyEvents("events", [crossed()]), uow=uow, clock=clock)
    assert not store.notifications and not store.consumed and not store.published
    assert await notify(store, clock, crossed()) == 0 and len(store.inbox) == 1  # delivered on redelivery


async def test_preferences_drop_the_inbox_and_hold_email_for_a_digest(
    store: Store, clock: ManualClock
) -> None:
    await add_rule(store, Channel.INBOX, Channel.EMAIL)
    await add_channel(
        store, clock, commands.CreateChannel(TENANT, Channel.EMAIL, "contacts", to_account_contacts=True)
    )
    preference = Preference(
        "acct-1", email="ann@acme.example", channels={"inbox": {"usage": "off"}, "email": {"*": "daily"}}
    )
    await handlers.put_preference(commands.PutPreference(TENANT, preference), uow=FakeUnitOfWork(store))

    assert await notify(store, clock, crossed("e1"), crossed("e2")) == 0
    assert by_channel(store) == {"inbox": ["suppressed", "suppressed"], "email": ["held", "held"]}
    assert not store.deliveries and not store.inbox

    assert await handlers.send_digests(uow=FakeUnitOfWork(store), clock=clock) == 0  # not due yet
    clock.advance(timedelta(days=1))
    assert await handlers.send_digests(uow=FakeUnitOfWork(store), clock=clock) == 1
    assert await handlers.send_digests(uow=FakeUnitOfWork(store), clock=clock) == 0
    [digest] = [n for n in store.notifications.values() if n.category == "digest"]
    assert digest.status == "pending" and digest.recipient == "email:ann@acme.example"
    assert [d.target for d in store.deliveries.values()] == ["ann@acme.example"]
    assert sorted(n.status for n in store.notifications.values() if n.channel == "email") == [
        "digested",
        "digested",
        "pending",
    ]


async def test_critical_notices_bypass_opt_outs_and_digests(store: Store, clock: ManualClock) -> None:
    await add_rule(store, Channel.INBOX, Channel.EMAIL, priority=Priority.CRITICAL)
    await add_channel(
        store, clock, commands.CreateChannel(TENANT, Channel.EMAIL, "contacts", to_account_contacts=True)
    )
    preference = Preference(
        "acct-1", email="ann@acme.example", channels={"inbox": {"*": "off"}, "email": {"*": "weekly"}}
    )
    await handlers.put_preference(commands.PutPreference(TENANT, preference), uow=FakeUnitOfWork(store))

    assert await notify(store, clock, crossed()) == 1
    assert by_channel(store) == {"inbox": ["delivered"], "email": ["pending"]}
    assert [d.status for d in store.deliveries.values()] == ["succeeded", "pending"]
