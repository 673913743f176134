"""entitlements' unit of work: its repositories on one transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.adapters.repository import (
    CatalogRepository,
    CounterRepository,
    GrantRepository,
    LicenseRepository,
)
from tangible_runtime.unit_of_work import SqlUnitOfWork


class UnitOfWork(SqlUnitOfWork):
    catalog: CatalogRepository
    licenses: LicenseRepository
    counters: CounterRepository
    grants: GrantRepository

    def bind(self, session: AsyncSession) -> None:
        self.catalog = CatalogRepository(session)
        self.licenses = LicenseRepository(session)
        self.counters = CounterRepository(session)
        self.grants = GrantRepository(session)
