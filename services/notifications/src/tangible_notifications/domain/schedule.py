"""Calendar of the scheduled messages: quarters for the impact summary, digest batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tangible_notifications.domain.model import Channel, SourceEvent
from tangible_notifications.domain.planning import notification_id


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * (self.number - 1) + 1, 1)

    @property
    def end(self) -> date:
        """Last day of the quarter."""
        nxt = Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        return nxt.start - timedelta(days=1)


def last_completed_quarter(now: datetime) -> Quarter:
    """The quarter that ended most recently (UTC): catch-up sends the one missed while down."""
    current = (now.month - 1) // 3 + 1
    return Quarter(now.year - 1, 4) if current == 1 else Quarter(now.year, current - 1)


def quarterly_event(tenant_id: str, account_id: str, quarter: Quarter, now: datetime) -> SourceEvent:
    """A synthetic source event: its id makes the summary once per account and quarter."""
    return SourceEvent(
        id=f"quarterly-summary:{quarter.key}",
        type="tangible.notifications.quarterly_summary",
        tenant_id=tenant_id,
        account_id=account_id,
        data={"quarter": quarter.key, "from": quarter.start.isoformat(), "to": quarter.end.isoformat()},
        time=now,
    )


def digest_id(tenant_id: str, recipient: str, digest_key: str) -> str:
    return notification_id(tenant_id, f"digest:{digest_key}", "digest", recipient, Channel.EMAIL)
