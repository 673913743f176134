"""Which accounts' entitlements changed, for the SDKs' change streams.

The view follower tells the hub what each batch of events touched; every open stream of
that tenant (or of that one account) is woken and sends those accounts' new answers. A
stream collects pending account ids in a set, so a burst of changes to one account costs
one frame: only the latest answer matters. Positions are `<epoch>-<seq>`: a client resuming
with a position of this process's epoch that the recent history still covers gets only what
changed since; any other position gets a `resync` (the client re-reads its accounts).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

AccountKey = tuple[str, str]  # tenant, account
HISTORY = 100_000  # changes remembered for resumption


@dataclass(eq=False)
class Subscription:
    tenant_id: str
    account_id: str | None  # None: every account of the tenant
    pending: set[str] = field(default_factory=set)
    resync: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, tenant_id: str, account_id: str) -> bool:
        return tenant_id == self.tenant_id and (self.account_id is None or account_id == self.account_id)


class ChangeHub:
    def __init__(self, history: int = HISTORY) -> None:
        self.epoch = uuid.uuid4().hex[:12]
        self.seq = 0
        self._history: deque[tuple[int, str, str | None]] = deque(maxlen=history)
        self._subscriptions: dict[str, set[Subscription]] = {}

    @property
    def position(self) -> str:
        return f"{self.epoch}-{self.seq}"

    def publish(self, accounts: Iterable[AccountKey], tenants: Iterable[str] = ()) -> None:
        """Accounts whose answers changed; tenants whose catalog changed (every account)."""
        for tenant_id, account_id in accounts:
            self.seq += 1
            self._history.append((self.seq, tenant_id, account_id))
            for sub in self._subscriptions.get(tenant_id, ()):
                if sub.wants(tenant_id, account_id):
                    sub.pending.add(account_id)
                    sub.wake.set()
        for tenant_id in tenants:
            self.seq += 1
            self._history.append((self.seq, tenant_id, None))
            for sub in self._subscriptions.get(tenant_id, ()):
                sub.resync = True
                sub.wake.set()

    @contextmanager
    def subscribe(self, tenant_id: str, account_id: str | None) -> Iterator[Subscription]:
        sub = Subscription(tenant_id, account_id)
        self._subscriptions.setdefault(tenant_id, set()).add(sub)
        try:
            yield sub
        finally:
            subs = self._subscriptions.get(tenant_id, set())
            subs.discard(sub)
            if not subs:
                self._subscriptions.pop(tenant_id, None)

    def resume(self, sub: Subscription, position: str | None) -> bool:
        """Queue what changed after `position` for `sub`; False if that cannot be known."""
        epoch, _, seq_text = (position or "").partition("-")
        if epoch != self.epoch or not seq_text.isdigit():
            return False
        seq = int(seq_text)
        if seq > self.seq or (self._history and self._history[0][0] > seq + 1 and seq < self.seq):
            return False
        for changed, tenant_id, account_id in self._history:
            if changed <= seq or tenant_id != sub.tenant_id:
                continue
            if account_id is None:
                sub.resync = True
            elif sub.wants(tenant_id, account_id):
                sub.pending.add(account_id)
        if sub.pending or sub.resync:
            sub.wake.set()
        return True
