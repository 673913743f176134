"""Admin and reader handlers on in-memory fakes: channels behind the SSRF guard with sealed
secrets, rotation, the inbox's read state, resending from the delivery log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.notifications.tests.unit.fakes import FakeGuard, FakeSecrets, FakeUnitOfWork, Store
from services.notifications.tests.unit.scenario import (
    TENANT,
    URL,
    add_channel,
    add_rule,
    add_webhook,
    crossed,
    notify,
)
from tangible_notifications.domain import commands
from tangible_notifications.domain.errors import (
    ChannelDisabled,
    ChannelHasNoSecret,
    InboxItemNotFound,
    TargetRefused,
)
from tangible_notifications.domain.model import Channel
from tangible_notifications.service_layer import handlers, views
from tangible_runtime.domain import ManualClock


async def test_a_webhook_channel_is_guarded_and_its_secret_shown_once_and_stored_sealed(
    store: Store, clock: ManualClock
) -> None:
    guard = FakeGuard("https://10.0.0.1/x")
    with pytest.raises(TargetRefused):
        private = commands.CreateChannel(TENANT, Channel.WEBHOOK, "ops", url="https://10.0.0.1/x")
        await add_channel(store, clock, private, guard)
    assert not store.channels

    public = commands.CreateChannel(TENANT, Channel.WEBHOOK, "ops", url=URL)
    endpoint, secret = await add_channel(store, clock, public, guard)
    assert guard.checked == ["https://10.0.0.1/x", URL]
    assert secret == "whsec_generated1"
    assert [s.ciphertext for s in store.secrets[endpoint.id]] == ["sealed:whsec_generated1"]


async def test_rotating_keeps_the_old_secret_for_the_overlap_and_email_channels_have_none(
    store: Store, clock: ManualClock
) -> None:
    webhook = await add_webhook(store, clock)
    secrets = FakeSecrets()
    secrets.made = 1
    command = commands.RotateSecret(TENANT, webhook, timedelta(hours=24))
    secret, until = await handlers.rotate_secret(
        command, uow=FakeUnitOfWork(store), secrets=secrets, clock=clock
    )
    assert (secret, until) == ("whsec_generated2", clock.now() + timedelta(hours=24))
    active = await FakeUnitOfWork(store).channels.active_secrets([webhook], clock.now() + timedelta(hours=23))
    assert [s.ciphertext for s in active[webhook]] == ["sealed:whsec_generated2", "sealed:whsec_generated1"]

    team = commands.CreateChannel(TENANT, Channel.EMAIL, "team", recipients=("a@b.example",))
    email = (await add_channel(store, clock, team))[0].id
    with pytest.raises(ChannelHasNoSecret):
        rotate = commands.RotateSecret(TENANT, email, timedelta(hours=1))
        await handlers.rotate_secret(rotate, uow=FakeUnitOfWork(store), secrets=secrets, clock=clock)


async def test_an_inbox_item_is_marked_read_and_unread_by_its_account_only(
    store: Store, clock: ManualClock
) -> None:
    await add_rule(store, Channel.INBOX)
    await notify(store, clock, crossed())
    [item_id] = store.inbox

    async def unread() -> int:
        return await views.unread_count(
            FakeUnitOfWork(store), tenant_id=TENANT, account_id="acct-1", user_id=None
        )

    assert await unread() == 1
    mark = commands.MarkInboxItem(TENANT, "acct-1", item_id, read=True)
    assert await handlers.mark_inbox_item(mark, uow=FakeUnitOfWork(store), clock=clock) is True
    assert store.inbox[item_id].read_at == clock.now() and await unread() == 0
    unmark = commands.MarkInboxItem(TENANT, "acct-1", item_id, read=False)
    assert await handlers.mark_inbox_item(unmark, uow=FakeUnitOfWork(store), clock=clock) is False
    assert await unread() == 1

    with pytest.raises(InboxItemNotFound):
        other = commands.MarkInboxItem(TENANT, "acct-2", item_id, read=True)
        await handlers.mark_inbox_item(other, uow=FakeUnitOfWork(store), clock=clock)


async def test_a_delivery_is_resent_only_while_its_channel_is_enabled(
    store: Store, clock: ManualClock
) -> None:
    channel_id = await add_webhook(store, clock)
    await add_rule(store, Channel.WEBHOOK)
    await notify(store, clock, crossed())
    [delivery_id] = store.deliveries

    clock.advance(timedelta(hours=1))
    resend = commands.ResendDelivery(TENANT, delivery_id)
    await handlers.resend_delivery(resend, uow=FakeUnitOfWork(store), clock=clock)
    delivery = store.deliveries[delivery_id]
    assert (delivery.status, delivery.next_attempt_at, delivery.series_started_at) == (
        "pending",
        clock.now(),
        clock.now(),
    )

    disable = commands.SetChannelEnabled(TENANT, channel_id, enabled=False)
    await handlers.set_channel_enabled(disable, uow=FakeUnitOfWork(store), clock=clock)
    with pytest.raises(ChannelDisabled):
        await handlers.resend_delivery(resend, uow=FakeUnitOfWork(store), clock=clock)
