"""Signals about the past: imported history must not send "threshold crossed" mail for last March.

A signal's time is when what it tells happened, not when it reached notifications: a
milestone's `reached_at` and a reward's `granted_at` (rewards dates those met by imported
usage by the event that met them), a threshold's `period_end` (a crossing in a period that
ended long ago is history), else the CloudEvent's `time`. Signals older than the horizon
(`NOTIFICATIONS_PAST_SIGNAL_HOURS`) are consumed and dropped: no notification, no delivery.
Pure Python.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tangible_notifications.domain.model import SourceEvent

_WHEN = {
    "tangible.rewards.v1.milestone_reached": "reached_at",
    "tangible.rewards.v1.reward_granted": "granted_at",
    "tangible.entitlements.v1.threshold_crossed": "period_end",
    "tangible.entitlements.v1.threshold_recovered": "period_end",
}


def signal_time(event: SourceEvent) -> datetime | None:
    field = _WHEN.get(event.type)
    value = event.data.get(field) if field else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return event.time


def is_past(event: SourceEvent, now: datetime, horizon: timedelta) -> bool:
    when = signal_time(event)
    return when is not None and when < now - horizon
