"""rewards' unit of work: its repositories on one transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tangible_rewards.adapters.repository import ProgressRepository, RewardRepository, RuleRepository
from tangible_runtime.unit_of_work import SqlUnitOfWork


class UnitOfWork(SqlUnitOfWork):
    rules: RuleRepository
    progress: ProgressRepository
    rewards: RewardRepository

    def bind(self, session: AsyncSession) -> None:
        self.rules = RuleRepository(session)
        self.progress = ProgressRepository(session)
        self.rewards = RewardRepository(session)
