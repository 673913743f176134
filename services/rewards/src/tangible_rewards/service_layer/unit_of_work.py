"""rewards' unit of work: its repositories on one transaction."""

from __future__ import annotations

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


def _satisfies_the_port(uow: UnitOfWork) -> ports.UnitOfWork:
    return uow  # mypy checks the SQL unit of work (and so each repository) against the Protocols
