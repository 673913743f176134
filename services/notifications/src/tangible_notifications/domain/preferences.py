"""What a recipient's preferences make of one notification: send, hold for a digest, or drop.

Preferences govern the person-facing channels (email and the in-app inbox). Webhooks are
the tenant's own integrations and follow only the tenant's rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tangible_notifications.domain.model import Channel, Preference, Priority, QuietHours

MODES = ("immediate", "off", "daily", "weekly")
PERSONAL_CHANNELS = (Channel.EMAIL, Channel.INBOX)


class Decision(StrEnum):
    SEND = "send"
    HOLD = "hold"
    SUPPRESS = "suppress"


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    digest_mode: str | None = None


def effective(preferences: Sequence[Preference], user_id: str | None) -> Preference | None:
    """The user's preference where set, else the account's; fields fall back field by field."""
    account = next((p for p in preferences if p.user_id is None), None)
    user = next((p for p in preferences if user_id is not None and p.user_id == user_id), None)
    if user is None:
        return account
    if account is None:
        return user
    channels = {k: {**account.channels.get(k, {}), **v} for k, v in user.channels.items()}
    return Preference(
        account_id=user.account_id,
        user_id=user.user_id,
        email=user.email,
        timezone=user.timezone if user.timezone != "UTC" else account.timezone,
        quiet_hours=user.quiet_hours or account.quiet_hours,
        channels={**account.channels, **channels},
    )


def decide(preference: Preference | None, channel: Channel, category: str, priority: Priority) -> Outcome:
    """Critical notices bypass opt-outs and digests; digests hold only low and normal ones."""
    if preference is None or channel not in PERSONAL_CHANNELS or priority is Priority.CRITICAL:
        return Outcome(Decision.SEND)
    mode = preference.mode(channel, category) or "immediate"
    if mode == "off":
        return Outcome(Decision.SUPPRESS)
    if (
        mode in ("daily", "weekly")
        and channel is Channel.EMAIL
        and priority in (Priority.LOW, Priority.NORMAL)
    ):
        return Outcome(Decision.HOLD, mode)
    return Outcome(Decision.SEND)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _at(local_day: datetime, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(local_day.date(), moment, tzinfo=tz)


def quiet_until(now: datetime, quiet: QuietHours | None, timezone: str) -> datetime | None:
    """The end of the quiet window `now` falls in (in UTC), or None when not quiet."""
    if quiet is None or quiet.start == quiet.end:
        return None
    tz = zone(timezone)
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= t < quiet.end
        end_day = local
    else:  # the window wraps midnight, e.g. 22:00–07:00
        inside = t >= quiet.start or t < quiet.end
        end_day = local + timedelta(days=1) if t >= quiet.start else local
    if not inside:
        return None
    return _at(end_day, quiet.end, tz).astimezone(UTC)


def digest_slot(now: datetime, mode: str, timezone: str, hour: int) -> tuple[str, datetime]:
    """(period key, when the digest goes out): the next `hour` o'clock local time, daily or
    on Mondays, strictly after `now`."""
    tz = zone(timezone)
    local = now.astimezone(tz)
    due = _at(local, time(hour), tz)
    if due <= local:
        due += timedelta(days=1)
    if mode == "weekly":
        due += timedelta(days=(7 - due.weekday()) % 7)
    return f"{mode}:{due.date().isoformat()}", due.astimezone(UTC)
