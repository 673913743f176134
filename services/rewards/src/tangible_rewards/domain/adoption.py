"""Adoption breadth: the share of assigned seats whose holders were active in a rolling window.

Measured at one instant: the denominator is the seats assigned then; the numerator, those
seat holders active within the window before it. A seat taken back mid-window leaves both;
a seat given mid-window counts at once, with its holder's activity in the window.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tangible_rewards.domain.model import AdoptionParams


@dataclass(frozen=True)
class SeatChange:
    license_id: str
    user_id: str
    assigned: bool


@dataclass(frozen=True)
class Adoption:
    assigned: int
    active: int
    # the earliest last activity among the active holders: the first to leave the window
    # (when progress read from it changes without any write); not part of the measure
    oldest_active: datetime | None = field(default=None, compare=False)

    @property
    def percent(self) -> float:
        return 100.0 * self.active / self.assigned if self.assigned else 0.0

    def reached(self, params: AdoptionParams) -> bool:
        return self.assigned >= params.min_seats and self.percent >= params.percent

    def needed(self, params: AdoptionParams) -> int:
        """Active seats needed at the current assignment (at least `min_seats`)."""
        return max(math.ceil(params.percent * self.assigned / 100 - 1e-9), params.min_seats, 1)


def apply_seat_changes(assigned: set[tuple[str, str]], changes: Iterable[SeatChange]) -> set[tuple[str, str]]:
    """(license, user) pairs assigned after the changes, applied in order."""
    result = set(assigned)
    for change in changes:
        pair = (change.license_id, change.user_id)
        if change.assigned:
            result.add(pair)
        else:
            result.discard(pair)
    return result


def adoption_at(
    seat_holders: Collection[str], last_active: Mapping[str, datetime], now: datetime, window: timedelta
) -> Adoption:
    holders = set(seat_holders)
    cutoff = now - window
    active = sum(1 for user in holders if (seen := last_active.get(user)) is not None and seen > cutoff)
    return Adoption(len(holders), active)
