"""rewards' unit of work: its repositories on one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tangible_rewards.adapters.repositories.book import CreditBook
from tangible_rewards.adapters.repositories.catalogue import CatalogRepository
from tangible_rewards.adapters.repositories.idempotency import IdempotencyRepository
from tangible_rewards.adapters.repositories.ledger import LedgerRepository
from tangible_rewards.adapters.repositories.licenses import LicenseRepository
from tangible_rewards.adapters.repositories.reads import LedgerReads
from tangible_rewards.adapters.repositories.rewards import RewardRepository
from tangible_rewards.adapters.repositories.rules import ProfileRepository, RuleRepository
from tangible_rewards.adapters.repositories.state import ActivityRepository, ProgressRepository
from tangible_rewards.service_layer import ports
from tangible_runtime.unit_of_work import SqlUnitOfWork
from tangible_schemas.binding import parse_record_key

AccountKey = tuple[str, str]


class UnitOfWork(SqlUnitOfWork):
    rules: RuleRepository
    profiles: ProfileRepository
    progress: ProgressRepository
    activity: ActivityRepository
    licenses: LicenseRepository
    rewards: RewardRepository
    ledger: LedgerRepository
    ledger_reads: LedgerReads
    book: CreditBook
    idempotency: IdempotencyRepository
    catalog: CatalogRepository

    def __init__(
        self, *args: Any, on_change: Callable[[set[AccountKey]], None] | None = None, **kwargs: Any
    ) -> None:
        """`on_change`: told, after each commit, the accounts its events were about (this
        process's in-memory reads drop them before the events even reach Kafka)."""
        super().__init__(*args, **kwargs)
        self._on_change = on_change

    async def commit(self) -> None:
        keys = self.outbox.keys
        await super().commit()
        if keys and self._on_change is not None:
            self._on_change({account for account in map(_account, keys) if account is not None})

    def bind(self, session: AsyncSession) -> None:
        self.rules = RuleRepository(session)
        self.profiles = ProfileRepository(session)
        self.progress = ProgressRepository(session)
        self.activity = ActivityRepository(session)
        self.licenses = LicenseRepository(session)
        self.rewards = RewardRepository(session)
        self.ledger = LedgerRepository(session)
        self.ledger_reads = LedgerReads(session)
        self.book = CreditBook(session)
        self.idempotency = IdempotencyRepository(session)
        self.catalog = CatalogRepository(session)


def _account(key: bytes) -> AccountKey | None:
    try:
        return parse_record_key(key)
    except ValueError:
        return None


def _satisfies_the_port(uow: UnitOfWork) -> ports.UnitOfWork:
    return uow  # mypy checks the SQL unit of work (and so each repository) against the Protocols
