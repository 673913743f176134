"""Steps the handler unit tests arrange their world with, through the handlers themselves:
a tenant's rules and channels, and usage events reaching the consumer."""

from __future__ import annotations

from services.notifications.tests.unit.fakes import FakeGuard, FakeSecrets, FakeUnitOfWork, Store
from tangible_notifications.domain import commands
from tangible_notifications.domain.model import Channel, Endpoint, Priority, SourceEvent
from tangible_notifications.service_layer import handlers
from tangible_runtime.domain import ManualClock

TENANT = "t1"
THRESHOLD = "tangible.entitlements.v1.threshold_crossed"
URL = "https://hooks.example/x"


def crossed(event_id: str = "e1", account: str = "acct-1") -> SourceEvent:
    """80 % of the reports allowance used, as entitlements announces it."""
    data = {"feature_key": "reports", "threshold_percent": 80, "usage": 8, "limit": 10}
    return SourceEvent(event_id, THRESHOLD, TENANT, account, data)


async def add_rule(store: Store, *channels: Channel, priority: Priority = Priority.NORMAL) -> None:
    command = commands.CreateRule(TENANT, "usage", (THRESHOLD,), channels, priority=priority)
    await handlers.create_rule(command, uow=FakeUnitOfWork(store))


async def add_channel(
    store: Store, clock: ManualClock, command: commands.CreateChannel, guard: FakeGuard | None = None
) -> tuple[Endpoint, str | None]:
    return await handlers.create_channel(
        command, uow=FakeUnitOfWork(store), secrets=FakeSecrets(), guard=guard or FakeGuard(), clock=clock
    )


async def add_webhook(store: Store, clock: ManualClock) -> str:
    endpoint, _ = await add_channel(
        store, clock, commands.CreateChannel(TENANT, Channel.WEBHOOK, "ops", url=URL)
    )
    return endpoint.id


async def notify(store: Store, clock: ManualClock, *events: SourceEvent, consumer: str = "events") -> int:
    command = commands.NotifyEvents(consumer=consumer, events=list(events))
    return await handlers.notify_events(command, uow=FakeUnitOfWork(store), clock=clock)
