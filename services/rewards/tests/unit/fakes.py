"""rewards' unit of work and repositories in memory, for handler tests that run in milliseconds.

Same semantics as the SQL (unique keys, upserts, what each query filters and orders by);
each transaction works on a copy of the tables that only `commit` keeps, so a handler that
raises leaves nothing behind. The integration tests remain the truth.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from services.rewards.tests.unit.fake_catalogue import FakeCatalogRepository
from services.rewards.tests.unit.fake_ledger import (
    FakeCreditBook,
    FakeLedgerReads,
    FakeLedgerRepository,
    as_json,
)
from services.rewards.tests.unit.fake_state import (
    FakeActivityRepository,
    FakeLicenseRepository,
    FakeProfileRepository,
    FakeProgressRepository,
    FakeRuleRepository,
    Tables,
)
from tangible_rewards.adapters.repositories.rules import reward_to_json
from tangible_rewards.domain.evaluation import Achievement
from tangible_rewards.domain.ledger import money
from tangible_rewards.service_layer.reads import GrantedReward, StoredOutcome
from tangible_schemas import EventData

__all__ = ["FakeUnitOfWork", "Tables"]


class FakeRewardRepository:
    def __init__(self, t: Tables) -> None:
        self._t = t

    async def claim(self, claims: Sequence[tuple[str, Achievement]], at: datetime) -> set[str]:
        inserted: set[str] = set()
        for reward_id, a in claims:
            if (a.rule.key, a.reward_period) in await self.existing(a.tenant_id, a.account_id):
                continue  # ON CONFLICT (tenant, account, rule key, reward period) DO NOTHING
            reward = a.rule.reward
            self._t.rewards[reward_id] = GrantedReward(
                reward_id,
                a.tenant_id,
                a.account_id,
                a.rule.id,
                a.rule.key,
                a.rule.version,
                reward.name or a.rule.name,
                reward.kind.value,
                a.qualifying,
                a.reward_period,
                money(reward.credits) if reward.credits is not None else None,
                as_json(reward_to_json(reward)),
                "granted",
                at,
            )
            inserted.add(reward_id)
        return inserted

    async def existing(self, tenant_id: str, account_id: str) -> set[tuple[str, str]]:
        return {(r.rule_key, r.reward_period) for r in self._of(tenant_id, account_id)}

    async def page(
        self, tenant_id: str, account_id: str, *, limit: int, offset: int
    ) -> tuple[list[GrantedReward], int]:
        mine = sorted(self._of(tenant_id, account_id), key=lambda r: r.id)
        newest_first = sorted(mine, key=lambda r: r.granted_at, reverse=True)
        return newest_first[offset : offset + limit], len(mine)

    async def get(
        self, tenant_id: str, account_id: str, reward_id: str, *, lock: bool = False
    ) -> GrantedReward | None:
        return next((r for r in self._of(tenant_id, account_id) if r.id == reward_id), None)

    async def mark_voided(self, reward_id: str, at: datetime) -> None:
        self._t.rewards[reward_id] = replace(self._t.rewards[reward_id], status="voided")

    def _of(self, tenant_id: str, account_id: str) -> list[GrantedReward]:
        return [r for r in self._t.rewards.values() if (r.tenant_id, r.account_id) == (tenant_id, account_id)]


class FakeIdempotencyRepository:
    def __init__(self, t: Tables) -> None:
        self._t = t

    async def claim(self, tenant_id: str, account_id: str, key: str, request_hash: str, at: datetime) -> bool:
        if (tenant_id, account_id, key) in self._t.idempotency:
            return False
        self._t.idempotency[(tenant_id, account_id, key)] = (request_hash, at, None)
        return True

    async def stored(self, tenant_id: str, account_id: str, key: str) -> StoredOutcome | None:
        row = self._t.idempotency.get((tenant_id, account_id, key))
        return row[2] if row else None

    async def store(
        self, tenant_id: str, account_id: str, key: str, status_code: int, response: dict[str, Any]
    ) -> None:
        request_hash, at, _ = self._t.idempotency[(tenant_id, account_id, key)]
        outcome = StoredOutcome(request_hash, status_code, as_json(response))
        self._t.idempotency[(tenant_id, account_id, key)] = (request_hash, at, outcome)

    async def prune(self, older_than: datetime) -> int:
        old = [k for k, (_, at, _) in self._t.idempotency.items() if at < older_than]
        for k in old:
            del self._t.idempotency[k]
        return len(old)


class FakeInbox:
    def __init__(self, t: Tables, consumer: str) -> None:
        self._t, self._consumer = t, consumer

    async def claim(self, event_ids: Iterable[str]) -> set[str]:
        fresh = {i for i in event_ids if (self._consumer, i) not in self._t.inbox}
        self._t.inbox |= {(self._consumer, i) for i in fresh}
        return fresh


class FakeOutbox:
    def __init__(self) -> None:
        self.pending: list[EventData] = []

    def add(self, data: EventData, *, time: datetime | None = None) -> object:
        self.pending.append(data)
        return data


class FakeUnitOfWork:
    """`committed` holds what the last commit kept; `events` what commits published."""

    def __init__(self, tables: Tables | None = None) -> None:
        self.committed = tables or Tables()
        self.commits = 0

    @property
    def events(self) -> list[EventData]:
        return self.committed.events

    async def __aenter__(self) -> Self:
        self._work = copy.deepcopy(self.committed)
        t = self._work
        self.rules, self.profiles = FakeRuleRepository(t), FakeProfileRepository(t)
        self.progress, self.activity = FakeProgressRepository(t), FakeActivityRepository(t)
        self.licenses, self.rewards = FakeLicenseRepository(t), FakeRewardRepository(t)
        self.ledger, self.ledger_reads = FakeLedgerRepository(t.ledger), FakeLedgerReads(t.ledger)
        self.idempotency, self.outbox = FakeIdempotencyRepository(t), FakeOutbox()
        self.catalog, self.book = FakeCatalogRepository(t), FakeCreditBook(t.ledger)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        del self._work  # not committed: rolled back

    def inbox(self, consumer: str) -> FakeInbox:
        return FakeInbox(self._work, consumer)

    async def commit(self) -> None:
        self._work.events.extend(self.outbox.pending)
        self.outbox.pending = []
        self.committed = copy.deepcopy(self._work)  # later writes need another commit
        self.commits += 1
