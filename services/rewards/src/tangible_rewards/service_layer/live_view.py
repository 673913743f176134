"""An API replica's in-memory reads: the rendered balance and progress of the accounts read
lately, dropped as soon as `tangible.rewards.v1` says the account changed (see
entrypoints/follower.py), or as soon as this process commits a change to it.

Filled on demand from the database (the first read of an account, or the first after a
change), not loaded up front: a balance only changes with a ledger transaction and every
ledger transaction publishes an event, so a cached balance stays right until its account's
next event, or until its soonest bucket expires. Progress also moves with usage, license
and rule changes that publish no event; every commit that writes what progress is read
from announces the accounts on a PostgreSQL channel instead (a trigger, migration 0006),
and `listening` says whether this replica hears them (entrypoints/progress_listener.py).
While it does, kept progress lives until such an announcement, until time moves it (the
next quarter hour, at which any time zone's day may begin; a seat holder leaving an
adoption window), or `listening_progress_max_age` at most. While it does not (connecting,
a lost connection, a pooler that drops LISTEN), at most `progress_max_age`; a change of
state forgets the progress kept.

A fill takes a ticket before it reads the database; a change of the account meanwhile
voids the ticket, so that an answer read before a change is never kept after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

AccountKey = tuple[str, str]
PROGRESS = "progress"  # the entry of progress; balances are keyed by their unit
QUARTER_HOUR = 900  # seconds; every time zone's offset is a multiple of it


@dataclass(frozen=True, slots=True)
class Entry:
    body: bytes
    valid_until: datetime | None  # on the service's clock: when the answer itself changes
    deadline: float  # monotonic: the longest this replica trusts it without an event


class LiveView:
    def __init__(
        self,
        *,
        progress_max_age: float,
        balance_max_age: float,
        max_accounts: int,
        listening_progress_max_age: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.progress_max_age = progress_max_age
        self.listening_progress_max_age = listening_progress_max_age
        self.balance_max_age = balance_max_age
        self.max_accounts = max_accounts
        self._monotonic = monotonic
        self._accounts: dict[AccountKey, dict[str, Entry]] = {}
        self._tickets: dict[AccountKey, int] = {}
        self._issued = 0
        # True while the follower is positioned on the topic: before (or after it stopped)
        # no change would reach the view, so it neither answers nor keeps anything
        self.live = False
        self.listening = False  # hears the progress announcements (see the module's note)
        self._since_transition = 0  # the first ticket taken in the current listening state

    # -- reads -------------------------------------------------------------------------------

    def balance(self, tenant_id: str, account_id: str, unit: str, now: datetime) -> bytes | None:
        return self._get((tenant_id, account_id), "unit:" + unit, now)

    def progress(self, tenant_id: str, account_id: str, now: datetime) -> bytes | None:
        return self._get((tenant_id, account_id), PROGRESS, now)

    def _get(self, key: AccountKey, what: str, now: datetime) -> bytes | None:
        if not self.live:
            return None
        entry = self._accounts.get(key, {}).get(what)
        if entry is None or self._monotonic() >= entry.deadline:
            return None
        if entry.valid_until is not None and now >= entry.valid_until:
            return None
        return entry.body

    def __len__(self) -> int:
        return len(self._accounts)

    # -- fills -------------------------------------------------------------------------------

    def ticket(self, tenant_id: str, account_id: str) -> int:
        """Taken before reading the database for the account."""
        self._issued += 1
        self._tickets[(tenant_id, account_id)] = self._issued
        return self._issued

    def keep_balance(
        self,
        ticket: int,
        tenant_id: str,
        account_id: str,
        unit: str,
        body: bytes,
        *,
        valid_until: datetime | None,
    ) -> None:
        """`valid_until`: the soonest expiry among the buckets read (the total drops then)."""
        deadline = self._monotonic() + self.balance_max_age
        self._keep(ticket, (tenant_id, account_id), "unit:" + unit, Entry(body, valid_until, deadline))

    def keep_progress(
        self,
        ticket: int,
        tenant_id: str,
        account_id: str,
        body: bytes,
        *,
        now: datetime,
        until: datetime | None = None,
    ) -> None:
        """`until`: when the progress read changes with time alone, besides a new day."""
        # the clock bounds too: a clock moved on (a new day, in tests a manual clock) moves progress
        if not self.listening or ticket < self._since_transition:
            age = self.progress_max_age
            entry = Entry(body, now + timedelta(seconds=age), self._monotonic() + age)
        else:
            age = self.listening_progress_max_age
            bounds = [now + timedelta(seconds=age), next_quarter_hour(now)]
            if until is not None:
                bounds.append(until)
            entry = Entry(body, min(bounds), self._monotonic() + age)
        self._keep(ticket, (tenant_id, account_id), PROGRESS, entry)

    def _keep(self, ticket: int, key: AccountKey, what: str, entry: Entry) -> None:
        if not self.live or self._tickets.get(key) != ticket:
            return  # the account changed (or the view stopped following) while it was read
        del self._tickets[key]
        entries = self._accounts.get(key)
        if entries is None:
            if len(self._accounts) >= self.max_accounts:
                # the account kept longest goes first: cheap, and a re-read costs one query
                del self._accounts[next(iter(self._accounts))]
            entries = self._accounts[key] = {}
        entries[what] = entry

    # -- changes -----------------------------------------------------------------------------

    def invalidate(self, accounts: Iterable[AccountKey]) -> None:
        for key in accounts:
            self._accounts.pop(key, None)
            self._tickets.pop(key, None)

    def invalidate_tenant(self, tenant_id: str) -> None:
        """A rule changed: every account of the tenant (rare; a walk over the view)."""
        self.invalidate([key for key in (*self._accounts, *self._tickets) if key[0] == tenant_id])

    def set_listening(self, listening: bool) -> None:
        """Progress kept before hearing (or while no longer hearing) the announcements may
        have missed one: forget it; a fill under way is kept as if nobody listened. Balances
        stay: they are dropped by the topic's events, which the announcements do not carry."""
        self.listening = listening
        for entries in self._accounts.values():
            entries.pop(PROGRESS, None)
        self._since_transition = self._issued + 1

    def clear(self) -> None:
        self._accounts.clear()
        self._tickets.clear()


def next_quarter_hour(now: datetime) -> datetime:
    """The first quarter hour (of UTC, so of every time zone) strictly after `now`."""
    seconds = now.timestamp()
    return datetime.fromtimestamp((seconds // QUARTER_HOUR + 1) * QUARTER_HOUR, UTC)
