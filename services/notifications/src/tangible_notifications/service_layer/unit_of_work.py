"""notifications' unit of work: its repositories on one transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tangible_notifications.adapters.repositories.channels import ChannelRepository
from tangible_notifications.adapters.repositories.deliveries import DeliveryRepository
from tangible_notifications.adapters.repositories.inbox import InboxRepository
from tangible_notifications.adapters.repositories.notifications import NotificationRepository
from tangible_notifications.adapters.repositories.reports import ReportTemplateRepository, ShareLinkRepository
from tangible_notifications.adapters.repositories.rules import RuleRepository
from tangible_notifications.adapters.repositories.schedules import ScheduleRepository
from tangible_notifications.adapters.repositories.settings import (
    AccountRepository,
    PreferenceRepository,
    TemplateRepository,
    TenantSettingsRepository,
)
from tangible_runtime.unit_of_work import SqlUnitOfWork


class UnitOfWork(SqlUnitOfWork):
    rules: RuleRepository
    channels: ChannelRepository
    templates: TemplateRepository
    tenant_settings: TenantSettingsRepository
    preferences: PreferenceRepository
    accounts: AccountRepository
    notifications: NotificationRepository
    deliveries: DeliveryRepository
    inbox_items: InboxRepository
    schedules: ScheduleRepository
    report_templates: ReportTemplateRepository
    share_links: ShareLinkRepository

    def bind(self, session: AsyncSession) -> None:
        self.rules = RuleRepository(session)
        self.channels = ChannelRepository(session)
        self.templates = TemplateRepository(session)
        self.tenant_settings = TenantSettingsRepository(session)
        self.preferences = PreferenceRepository(session)
        self.accounts = AccountRepository(session)
        self.notifications = NotificationRepository(session)
        self.deliveries = DeliveryRepository(session)
        self.inbox_items = InboxRepository(session)
        self.schedules = ScheduleRepository(session)
        self.report_templates = ReportTemplateRepository(session)
        self.share_links = ShareLinkRepository(session)
