"""Rendered check answers, kept until they can change.

An account's answer changes for two reasons only: its view changes (an event: usage, a
license, a grant, seats, the catalog), or time passes one of the account's own moments (a
metered period ends, a grant starts or expires, a trial ends). The view forgets an
account's answers on the first (`forget`, `clear`); each answer carries the span of time
over which it holds, from when it was computed to the account's next moment, for the second.
Outside that span it is computed again, so a grant that expires at 12:00 is not granted at
12:00 even if no event arrives, and a clock set back (tests' manual clocks) is answered anew.

The next quarter hour of UTC is always one of the moments: local days begin, and daylight
saving time repeats or skips hours, only on quarter hours of UTC. A period computed inside a
repeated hour (a zone whose clocks go back at midnight) can then differ from the one computed
after it, and an answer computed there must not outlive that hour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tangible_entitlements.domain.entitlement import Grant
from tangible_entitlements.domain.model import License
from tangible_entitlements.service_layer.checks import CheckResult

AccountKey = tuple[str, str]

# answers kept at most (each a few hundred bytes); past it, all are dropped and rebuilt on use
MAX_ANSWERS = 200_000
QUARTER_HOUR = 900  # seconds; every time zone's offset and transition falls on one


@dataclass(frozen=True, slots=True)
class KeptAnswer:
    payload: bytes  # the entitlement (one feature) or the list of them, serialised
    etag: str
    since: datetime  # the moment it was computed for
    until: datetime | None  # the account's next moment after `since`; None: none

    def holds_at(self, now: datetime) -> bool:
        return self.since <= now and (self.until is None or now < self.until)


def next_moment(
    license: License, grants: Iterable[Grant], results: Iterable[CheckResult], after: datetime
) -> datetime | None:
    """The first moment after `after` at which the same view can answer differently."""
    moments = [next_quarter_hour(after)]
    moments.extend(r.period_end for r in results if r.period_end is not None)
    for grant in grants:
        if grant.starts_at > after:
            moments.append(grant.starts_at)
        if grant.expires_at is not None and grant.expires_at > after:
            moments.append(grant.expires_at)
    moments.extend(t.ends_at for t in license.trials if t.ends_at > after)
    return min((m for m in moments if m > after), default=None)


def next_quarter_hour(after: datetime) -> datetime:
    """The first quarter hour of UTC strictly after `after`."""
    return datetime.fromtimestamp((after.timestamp() // QUARTER_HOUR + 1) * QUARTER_HOUR, UTC)


class AnswerCache:
    def __init__(self, max_answers: int = MAX_ANSWERS) -> None:
        self._kept: dict[AccountKey, dict[str | None, KeptAnswer]] = {}
        self._size = 0
        self._max = max_answers

    def get(self, account: AccountKey, feature_key: str | None, now: datetime) -> KeptAnswer | None:
        answers = self._kept.get(account)
        if answers is None:
            return None
        kept = answers.get(feature_key)
        return kept if kept is not None and kept.holds_at(now) else None

    def keep(self, account: AccountKey, feature_key: str | None, answer: KeptAnswer) -> None:
        if self._size >= self._max:
            self.clear()
        answers = self._kept.setdefault(account, {})
        if feature_key not in answers:
            self._size += 1
        answers[feature_key] = answer

    def forget(self, account: AccountKey) -> None:
        answers = self._kept.pop(account, None)
        if answers is not None:
            self._size -= len(answers)

    def clear(self) -> None:
        self._kept.clear()
        self._size = 0

    def __len__(self) -> int:
        return self._size
