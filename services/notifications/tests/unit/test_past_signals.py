"""Imported history notifies nobody: signals about what happened before the horizon are
consumed and dropped; recent ones, and those without a time, go out as before."""

from __future__ import annotations

from datetime import timedelta

from services.notifications.tests.unit.fakes import FakeUnitOfWork, Store
from services.notifications.tests.unit.scenario import TENANT, THRESHOLD, add_rule
from tangible_notifications.domain import commands
from tangible_notifications.domain.model import Channel, SourceEvent
from tangible_notifications.service_layer import handlers
from tangible_runtime.domain import ManualClock

MILESTONE = "tangible.rewards.v1.milestone_reached"
HORIZON = timedelta(hours=48)


def threshold(event_id: str, period_end: str | None) -> SourceEvent:
    data = {
        "feature_key": "reports",
        "threshold_percent": 80,
        "usage": 8,
        "limit": 10,
        "period_end": period_end,
    }
    return SourceEvent(event_id, THRESHOLD, TENANT, "acct-1", data)


def milestone(event_id: str, reached_at: str) -> SourceEvent:
    data = {"milestone_name": "Champion", "reached_at": reached_at, "imported": True}
    return SourceEvent(event_id, MILESTONE, TENANT, "acct-1", data)


async def notify(store: Store, clock: ManualClock, *events: SourceEvent) -> None:
    command = commands.NotifyEvents("events", list(events), past_signal_horizon=HORIZON)
    await handlers.notify_events(command, uow=FakeUnitOfWork(store), clock=clock)


async def test_a_threshold_of_a_period_long_over_notifies_nobody(store: Store, clock: ManualClock) -> None:
    await add_rule(store, Channel.INBOX)
    months_ago = (clock.now() - timedelta(days=200)).isoformat()
    await notify(store, clock, threshold("old", months_ago))
    assert not store.notifications
    assert (
        await handlers.notify_events(
            commands.NotifyEvents("events", [threshold("old", months_ago)]),
            uow=FakeUnitOfWork(store),
            clock=clock,
        )
        == 0
    )  # consumed once: a redelivery without the horizon finds it claimed


async def test_recent_and_open_periods_still_notify(store: Store, clock: ManualClock) -> None:
    await add_rule(store, Channel.INBOX)
    soon = (clock.now() + timedelta(days=3)).isoformat()
    await notify(store, clock, threshold("current", soon), threshold("lifetime", None))
    assert len(store.notifications) == 2


async def test_a_milestone_reached_by_imported_history_notifies_nobody(
    store: Store, clock: ManualClock
) -> None:
    command = commands.CreateRule(TENANT, "milestones", (MILESTONE,), (Channel.INBOX,))
    await handlers.create_rule(command, uow=FakeUnitOfWork(store))
    await notify(store, clock, milestone("past", (clock.now() - timedelta(days=90)).isoformat()))
    assert not store.notifications
    await notify(store, clock, milestone("now", (clock.now() - timedelta(hours=1)).isoformat()))
    assert len(store.notifications) == 1
