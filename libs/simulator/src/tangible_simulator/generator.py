"""The usage stream: rhythms of the day and week, trends, bursts, late, duplicate and
conflicting events — all drawn from one seeded random generator, so a run can be repeated."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tangible_simulator.population import Account

EVENT_TYPES = (("report.generated", 0.7), ("export.created", 0.2), ("dashboard.shared", 0.1))
SOURCE = "app://simulator"
SLICE = timedelta(hours=1)


@dataclass(frozen=True)
class Options:
    late_rate: float = 0.02  # share of events sent hours after they happened
    late_hours: tuple[float, float] = (1.0, 6.0)  # how late, at least and at most
    duplicate_rate: float = 0.0  # share of sends that repeat an earlier event unchanged
    conflict_rate: float = 0.0  # share of sends that reuse an earlier id with another payload
    burst_probability: float = 0.01  # chance per account-hour of a 5x burst
    volume: float = 1.0  # scales every account's events per day (a demo wants fewer than a load test)


@dataclass
class Sent:
    """One send: `event` is the CloudEvent; `kind` says what the simulator meant it to be."""

    event: dict[str, Any]
    kind: str  # original | duplicate | conflict


def daily_rhythm(local_hour: float) -> float:
    """Office hours: a smooth peak around 14:00, quiet nights (mean ≈ 1 over a day)."""
    return 0.15 + 1.7 * math.exp(-(((local_hour - 14) / 3.5) ** 2))


def weekly_rhythm(weekday: int) -> float:
    return 1.2 if weekday < 5 else 0.3


@dataclass
class UsageStream:
    accounts: list[Account]
    start: datetime
    seed: int
    options: Options = field(default_factory=Options)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._history: list[dict[str, Any]] = []

    def _event(self, account: Account, at: datetime) -> dict[str, Any]:
        rng = self._rng
        event_type = rng.choices([t for t, _ in EVENT_TYPES], weights=[w for _, w in EVENT_TYPES])[0]
        user = rng.choices(account.users, weights=[u.activity for u in account.users])[0]
        return {
            "specversion": "1.0",
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "source": SOURCE,
            "type": event_type,
            "subject": account.id,
            "time": at.isoformat(),
            "data": {"quantity": 1, "user_id": user.id, "pages": rng.randint(1, 40)},
        }

    def window(self, begin: datetime, end: datetime) -> Iterator[Sent]:
        """Events that happen in [begin, end) of simulated time, in time order (the late ones
        among them dated hours earlier). A long window is taken an hour at a time, so that
        the rhythm of the day holds however fast simulated time runs."""
        cursor = begin
        while cursor < end:
            stop = min(cursor + SLICE, end)
            yield from self._slice(cursor, stop)
            cursor = stop

    def _slice(self, begin: datetime, end: datetime) -> Iterator[Sent]:
        rng = self._rng
        seconds = (end - begin).total_seconds()
        hours = seconds / 3600
        middle = begin + (end - begin) / 2
        weeks = (middle - self.start).total_seconds() / (7 * 86400)
        happened: list[tuple[datetime, Account]] = []
        for account in self.accounts:
            local = middle + timedelta(hours=account.timezone_offset_hours)
            expected = account.rate_per_day(weeks) * self.options.volume / 24 * hours
            expected *= daily_rhythm(local.hour + local.minute / 60) * weekly_rhythm(local.weekday())
            if rng.random() < self.options.burst_probability * hours:
                expected *= 5
            happened.extend(
                (begin + timedelta(seconds=rng.random() * seconds), account)
                for _ in range(_poisson(rng, expected))
            )
        happened.sort(key=lambda item: item[0])
        for at, account in happened:
            if rng.random() < self.options.late_rate:
                at -= timedelta(hours=rng.uniform(*self.options.late_hours))
            yield from self._send(self._event(account, at))

    def _send(self, event: dict[str, Any]) -> Iterator[Sent]:
        rng = self._rng
        yield Sent(event, "original")
        self._history.append(event)
        if self._history and rng.random() < self.options.duplicate_rate:
            yield Sent(rng.choice(self._history), "duplicate")
        if self._history and rng.random() < self.options.conflict_rate:
            original = rng.choice(self._history)
            changed = {**original, "data": {**original["data"], "quantity": original["data"]["quantity"] + 1}}
            yield Sent(changed, "conflict")
        if len(self._history) > 10_000:
            del self._history[:5_000]


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:  # normal approximation keeps large means cheap
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k
