"""The consumer's handler: events → notifications and deliveries, persisted before any send."""

from __future__ import annotations

from datetime import date
from typing import Any

from tangible_notifications.domain import commands
from tangible_notifications.domain.model import SourceEvent
from tangible_notifications.domain.past import is_past
from tangible_notifications.domain.planning import plan
from tangible_notifications.service_layer.notifications import load_config, persist
from tangible_notifications.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock
from tangible_runtime.logs import get_logger

log = get_logger(__name__)

TERM_EVENTS = ("tangible.entitlements.v1.license_created", "tangible.entitlements.v1.license_renewed")


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _account_row(event: SourceEvent) -> tuple[str, str, str | None, date | None, date | None]:
    """What notifications remembers of an account: its license term, for 'this term' notes."""
    if event.type in TERM_EVENTS:
        license_id = event.data.get("license_id")
        return (
            event.tenant_id,
            event.account_id,
            str(license_id) if license_id else None,
            _date(event.data.get("term_start")),
            _date(event.data.get("term_end")),
        )
    return (event.tenant_id, event.account_id, None, None, None)


async def notify_events(command: commands.NotifyEvents, *, uow: UnitOfWork, clock: Clock) -> int:
    """One transaction per consumed batch: inbox claim, accounts, notifications, deliveries."""
    now = clock.now()
    async with uow:
        fresh = await uow.inbox(command.consumer).claim(e.id for e in command.events)
        events = [e for e in command.events if e.id in fresh]
        await uow.accounts.remember([_account_row(e) for e in events])
        horizon = command.past_signal_horizon
        if horizon is not None:
            past = [e for e in events if is_past(e, now, horizon)]
            if past:
                # consumed (inbox claimed) and remembered, but nobody is told about history
                log.info("past_signals_skipped", count=len(past), types=sorted({e.type for e in past}))
                events = [e for e in events if not is_past(e, now, horizon)]
        configs = await load_config(uow, {e.tenant_id for e in events})
        preferences = await uow.preferences.for_accounts((e.tenant_id, e.account_id) for e in events)
        planned = [
            n
            for e in events
            for n in plan(e, configs[e.tenant_id], preferences.get((e.tenant_id, e.account_id), []), now)
        ]
        due = await persist(uow, planned, now)
        await uow.commit()
    return due
