"""The simulator's own count of what the platform accepted: the independent side of every
end-to-end check (demo summary, chaos invariants)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tangible_client.reports import DeliveryReport, DeliveryStatus


def _quantities() -> defaultdict[str, float]:
    return defaultdict(float)  # a named factory, not a lambda: tallies of shards are pickled


@dataclass
class Tally:
    sent: Counter[str] = field(default_factory=Counter)  # by intended kind
    outcomes: Counter[str] = field(default_factory=Counter)  # by server outcome
    accepted_ids: set[str] = field(default_factory=set)
    # account → event type → summed quantity, and → number of events; account → active users
    usage: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(_quantities))
    events: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    users: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def record(self, kind: str, event: dict[str, Any], report: DeliveryReport) -> None:
        """Count an event once, by the payload the server accepted (reports arrive in send order)."""
        self.sent[kind] += 1
        self.outcomes[report.status.value] += 1
        if self.counted(kind, report) and event["id"] not in self.accepted_ids:
            self.accepted_ids.add(event["id"])
            account, data = event["subject"], event["data"]
            self.usage[account][event["type"]] += float(data.get("quantity", 1))
            self.events[account][event["type"]] += 1
            if data.get("user_id"):
                self.users[account].add(data["user_id"])

    @staticmethod
    def counted(kind: str, report: DeliveryReport) -> bool:
        """Accepted now, or by an earlier attempt of the same send: an original whose first
        response was lost (timeout, restart) comes back `duplicate` on the client's retry."""
        if report.status is DeliveryStatus.ACCEPTED:
            return True
        return report.status is DeliveryStatus.DUPLICATE and kind == "original" and report.attempts > 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": dict(self.sent),
            "outcomes": dict(self.outcomes),
            "accepted": len(self.accepted_ids),
            "usage": {a: dict(c) for a, c in sorted(self.usage.items())},
            "events": {a: dict(c) for a, c in sorted(self.events.items())},
            "active_users": {a: len(u) for a, u in sorted(self.users.items())},
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")

    def merge(self, other: Tally) -> None:
        """Add a shard's tally (shards own disjoint accounts); subclasses merge what they add."""
        self.sent.update(other.sent)
        self.outcomes.update(other.outcomes)
        self.accepted_ids |= other.accepted_ids
        for account, quantities in other.usage.items():
            for event_type, quantity in quantities.items():
                self.usage[account][event_type] += quantity
        for account, counts in other.events.items():
            self.events[account].update(counts)
        for account, users in other.users.items():
            self.users[account] |= users
