"""In-memory stand-ins for the service layer's ports: a unit of work over plain dicts (rolled
back unless committed), its repositories, scripted senders and the webhook-secret and SSRF
ports. They keep the rules the SQL adapters keep (one notification per key, leases fenced
by attempt number, idempotent inserts), so that handlers can be tested in milliseconds."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from services.notifications.tests.unit.fake_configuration import (
    FakeAccounts,
    FakeChannels,
    FakePreferences,
    FakeRules,
    FakeSchedules,
    FakeTemplates,
    FakeTenantSettings,
)
from services.notifications.tests.unit.fake_messages import FakeDeliveries, FakeInbox, FakeNotifications
from services.notifications.tests.unit.fake_reports import FakeReportTemplates, FakeShareLinks
from services.notifications.tests.unit.fake_store import Repository, Store
from tangible_notifications.domain.errors import TargetRefused
from tangible_notifications.domain.retry import AttemptResult, Outcome
from tangible_notifications.service_layer.ports import Job
from tangible_schemas import EventData

__all__ = ["FakeGuard", "FakeSecrets", "FakeSender", "FakeUnitOfWork", "Store"]


class FakeOutbox:
    def __init__(self) -> None:
        self.pending: list[EventData] = []

    def add(self, data: EventData, *, trace_headers: Sequence[tuple[str, bytes]] | None = None) -> Any:
        self.pending.append(data)


class FakeConsumed(Repository):
    def __init__(self, store: Store, consumer: str) -> None:
        super().__init__(store)
        self._consumer = consumer

    async def claim(self, event_ids: Iterable[str]) -> set[str]:
        fresh = {i for i in event_ids if (self._consumer, i) not in self.s.consumed}
        self.s.consumed |= {(self._consumer, i) for i in fresh}
        return fresh


class FakeUnitOfWork:
    """Works on `store` directly and puts it back as it found it unless committed."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.commits = 0
        self.rules = FakeRules(store)
        self.channels = FakeChannels(store)
        self.templates = FakeTemplates(store)
        self.tenant_settings = FakeTenantSettings(store)
        self.preferences = FakePreferences(store)
        self.accounts = FakeAccounts(store)
        self.notifications = FakeNotifications(store)
        self.deliveries = FakeDeliveries(store)
        self.inbox_items = FakeInbox(store)
        self.schedules = FakeSchedules(store)
        self.report_templates = FakeReportTemplates(store)
        self.share_links = FakeShareLinks(store)
        self.outbox = FakeOutbox()
        self._before: Store | None = None

    def inbox(self, consumer: str) -> FakeConsumed:
        return FakeConsumed(self.store, consumer)

    async def __aenter__(self) -> Self:
        self._before = copy.deepcopy(self.store)
        self.outbox = FakeOutbox()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._before is not None:  # not committed: roll back
            for f in fields(Store):
                setattr(self.store, f.name, getattr(self._before, f.name))
        self._before = None

    async def commit(self) -> None:
        self.store.published.extend(self.outbox.pending)
        self.outbox = FakeOutbox()
        self.commits += 1
        self._before = None


class FakeSender:
    """Answers from a script of outcomes (the last one repeats) and keeps what it was sent."""

    def __init__(
        self, *outcomes: Outcome, watches_endpoint: bool = True, status_code: int | None = None
    ) -> None:
        self.outcomes = list(outcomes) or [Outcome.SUCCEEDED]
        self.watches_endpoint = watches_endpoint
        self.status_code = status_code
        self.jobs: list[Job] = []

    async def send(self, job: Job, now: datetime) -> AttemptResult:
        self.jobs.append(job)
        outcome = self.outcomes[min(len(self.jobs), len(self.outcomes)) - 1]
        error = None if outcome is Outcome.SUCCEEDED else f"{outcome.value}"
        return AttemptResult(outcome, status_code=self.status_code, error=error)


class FakeSecrets:
    """Webhook secrets 'encrypted' by a visible prefix."""

    def __init__(self) -> None:
        self.made = 0

    def generate(self) -> str:
        self.made += 1
        return f"whsec_generated{self.made}"

    def encrypt(self, plaintext: str) -> str:
        return f"sealed:{plaintext}"


class FakeGuard:
    """Refuses the URLs it is told to; lets the others through."""

    def __init__(self, *refused: str) -> None:
        self.refused = set(refused)
        self.checked: list[str] = []

    async def check(self, url: str) -> None:
        self.checked.append(url)
        if url in self.refused:
            raise TargetRefused(f"'{url}' resolves to a private address")
