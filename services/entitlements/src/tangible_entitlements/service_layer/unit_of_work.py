"""entitlements' unit of work: its repositories on one transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.adapters.repositories.book import BookRepository
from tangible_entitlements.adapters.repositories.catalog import CatalogRepository
from tangible_entitlements.adapters.repositories.counters import CounterRepository
from tangible_entitlements.adapters.repositories.credentials import CredentialRepository
from tangible_entitlements.adapters.repositories.grants import GrantRepository
from tangible_entitlements.adapters.repositories.history import HistoryRepository
from tangible_entitlements.adapters.repositories.licenses import LicenseRepository, SeatRepository
from tangible_entitlements.adapters.repositories.lifecycle import (
    PolicyRepository,
    RenewalRepository,
    SignalRepository,
)
from tangible_entitlements.adapters.repositories.parked import ParkedUsageRepository
from tangible_entitlements.adapters.repositories.reports import ReportRepository
from tangible_entitlements.adapters.repositories.thresholds import ThresholdRepository
from tangible_entitlements.adapters.repositories.trials import TrialRepository
from tangible_runtime.unit_of_work import SqlUnitOfWork


class UnitOfWork(SqlUnitOfWork):
    catalog: CatalogRepository
    licenses: LicenseRepository
    seats: SeatRepository
    counters: CounterRepository
    grants: GrantRepository
    thresholds: ThresholdRepository
    history: HistoryRepository
    trials: TrialRepository
    policies: PolicyRepository
    renewals: RenewalRepository
    signals: SignalRepository
    reports: ReportRepository
    credentials: CredentialRepository
    book: BookRepository
    parked: ParkedUsageRepository

    def bind(self, session: AsyncSession) -> None:
        self.catalog = CatalogRepository(session)
        self.licenses = LicenseRepository(session)
        self.seats = SeatRepository(session)
        self.counters = CounterRepository(session)
        self.grants = GrantRepository(session)
        self.thresholds = ThresholdRepository(session)
        self.history = HistoryRepository(session)
        self.trials = TrialRepository(session)
        self.policies = PolicyRepository(session)
        self.renewals = RenewalRepository(session)
        self.signals = SignalRepository(session)
        self.reports = ReportRepository(session)
        self.credentials = CredentialRepository(session)
        self.book = BookRepository(session)
        self.parked = ParkedUsageRepository(session)
