"""What the service layer needs from the outside, as Protocols: the unit of work and its
repositories, the channel senders, webhook secrets and the SSRF guard. Adapters implement
them (the SQL ones in adapters/, in-memory fakes in the unit tests); handlers import
nothing else from outside the domain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, Self

from tangible_notifications.domain.model import (
    Delivery,
    Endpoint,
    Notification,
    NotificationRule,
    Preference,
    Template,
    TenantSettings,
)
from tangible_notifications.domain.periods import Period
from tangible_notifications.domain.records import (
    AttemptRecord,
    Composed,
    DeliveryRecord,
    FinishedAttempt,
    InboxItem,
    StoppedDelivery,
    StoredNotification,
    StoredSecret,
    StoredTemplate,
)
from tangible_notifications.domain.report_template import ReportTemplate
from tangible_notifications.domain.retry import AttemptResult
from tangible_notifications.domain.sharing import ShareLink
from tangible_schemas import EventData

AccountTerm = tuple[str, str, str | None, date | None, date | None]  # tenant, account, license, term

# the `user_id` of an inbox read that shows account-wide items only (no user id is empty)
ACCOUNT_WIDE = ""


@dataclass(frozen=True)
class Job:
    """One attempt to make: the claimed delivery, its notification, its channel's endpoint
    (None where the channel has none, or it was deleted) and that endpoint's signing
    secrets, still encrypted, newest first."""

    delivery: DeliveryRecord
    notification: StoredNotification
    endpoint: Endpoint | None
    secrets: tuple[str, ...] = ()


class Sender(Protocol):
    """Sends one attempt on one channel (webhook, email …); never raises for the receiver's
    answer, which is the result. Runs outside any transaction."""

    @property
    def watches_endpoint(self) -> bool:
        """Whether failures count against the endpoint (and may disable it)."""
        ...

    async def send(self, job: Job, now: datetime) -> AttemptResult: ...


class DeliveryMetrics(Protocol):
    """What the delivery worker reports to the operator (Prometheus in production)."""

    def endpoint_disabled(self, reason: str) -> None:
        """An endpoint was disabled automatically (`gone` or `failing`), after commit."""
        ...


class NoMetrics:
    """For callers that count nothing (unit tests, tools)."""

    def endpoint_disabled(self, reason: str) -> None:
        return None


class WebhookSecrets(Protocol):
    def generate(self) -> str: ...
    def encrypt(self, plaintext: str) -> str: ...


class TargetGuard(Protocol):
    async def check(self, url: str) -> None:
        """Raises TargetRefused for a URL that must not be called (SSRF guard)."""
        ...


class RuleRepository(Protocol):
    async def add(self, tenant_id: str, rule: NotificationRule) -> None: ...
    async def replace(self, tenant_id: str, rule: NotificationRule) -> bool: ...
    async def get(self, tenant_id: str, rule_id: str) -> NotificationRule | None: ...
    async def page(self, tenant_id: str, *, limit: int, offset: int) -> list[NotificationRule]: ...
    async def for_tenants(self, tenant_ids: Iterable[str]) -> dict[str, list[NotificationRule]]: ...
    async def event_patterns(self) -> dict[str, set[str]]: ...


class ChannelRepository(Protocol):
    async def add(self, endpoint: Endpoint, created_at: datetime) -> None: ...
    async def get(self, tenant_id: str, channel_id: str, *, for_update: bool = False) -> Endpoint | None: ...
    async def page(self, tenant_id: str, *, limit: int, offset: int) -> list[Endpoint]: ...
    async def for_tenants(self, tenant_ids: Iterable[str]) -> dict[str, list[Endpoint]]: ...
    async def by_ids(self, channel_ids: Iterable[str]) -> dict[str, Endpoint]: ...
    async def mark_failing(self, channel_id: str, now: datetime) -> datetime: ...
    async def update(self, tenant_id: str, channel_id: str, **values: object) -> None: ...
    async def update_by_id(self, channel_id: str, **values: object) -> None: ...
    async def add_secret(
        self, channel_id: str, secret_id: str, ciphertext: str, created_at: datetime
    ) -> None: ...
    async def expire_secrets(self, channel_id: str, expires_at: datetime) -> None: ...
    async def active_secrets(
        self, channel_ids: Iterable[str], now: datetime
    ) -> dict[str, list[StoredSecret]]: ...


class TemplateRepository(Protocol):
    async def put(
        self, tenant_id: str, event_type: str, channel: str, template: Template, now: datetime
    ) -> None: ...
    async def delete(self, tenant_id: str, event_type: str, channel: str) -> bool: ...
    async def page(self, tenant_id: str, *, limit: int, offset: int) -> list[StoredTemplate]: ...
    async def for_tenants(self, tenant_ids: Iterable[str]) -> dict[str, dict[tuple[str, str], Template]]: ...


class TenantSettingsRepository(Protocol):
    async def get(self, tenant_id: str) -> TenantSettings: ...
    async def for_tenants(self, tenant_ids: Iterable[str]) -> dict[str, TenantSettings]: ...
    async def put(self, tenant_id: str, settings: TenantSettings) -> None: ...
    async def quarterly_tenants(self) -> list[str]: ...


class PreferenceRepository(Protocol):
    async def put(self, tenant_id: str, preference: Preference) -> None: ...
    async def get(self, tenant_id: str, account_id: str, user_id: str | None) -> Preference | None: ...
    async def for_accounts(
        self, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[Preference]]: ...


class AccountRepository(Protocol):
    async def remember(self, rows: Sequence[AccountTerm]) -> None: ...
    async def term_start(self, tenant_id: str, account_id: str) -> date | None: ...
    async def page(self, tenant_id: str, after: str, limit: int) -> list[str]: ...


class NotificationRepository(Protocol):
    async def claim(self, notifications: Sequence[Notification]) -> set[str]:
        """Insert each with its `stored_status`; the ids actually inserted (not replays)."""
        ...

    async def set_status(self, ids: Sequence[str], status: str) -> None: ...
    async def by_ids(self, ids: Sequence[str]) -> dict[str, StoredNotification]: ...
    async def claim_composing(self, limit: int) -> list[StoredNotification]: ...
    async def composed(self, texts: Sequence[Composed]) -> None: ...
    async def held_due(self, now: datetime, limit: int) -> list[StoredNotification]: ...
    async def mark_digested(self, pairs: Sequence[tuple[str, str]]) -> None: ...


class DeliveryRepository(Protocol):
    async def add(self, deliveries: Sequence[Delivery]) -> None: ...
    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[DeliveryRecord]: ...
    async def finish(self, rows: Sequence[FinishedAttempt]) -> set[str]: ...
    async def log_attempts(self, rows: Sequence[AttemptRecord]) -> None: ...
    async def release_scheduled(self, notification_ids: Sequence[str], now: datetime) -> None: ...
    async def complete_inbox(self, ids: Sequence[str], now: datetime) -> None: ...
    async def fail_pending_for_channel(self, channel_id: str, reason: str) -> list[StoppedDelivery]: ...
    async def get(
        self, tenant_id: str, delivery_id: str, *, for_update: bool = False
    ) -> DeliveryRecord | None: ...
    async def resend(self, delivery_id: str, now: datetime) -> None: ...
    async def page(
        self,
        tenant_id: str,
        *,
        status: str | None,
        account_id: str | None,
        channel: str | None,
        limit: int,
        offset: int,
    ) -> list[DeliveryRecord]: ...
    async def attempts_of(self, delivery_ids: Sequence[str]) -> dict[str, list[AttemptRecord]]: ...


class InboxRepository(Protocol):
    async def add(self, items: Sequence[InboxItem]) -> None: ...
    async def page(
        self,
        tenant_id: str,
        account_id: str,
        *,
        user_id: str | None,
        unread_only: bool,
        limit: int,
        offset: int,
    ) -> list[InboxItem]: ...
    async def unread_count(self, tenant_id: str, account_id: str, user_id: str | None) -> int: ...
    async def mark(
        self,
        tenant_id: str,
        account_id: str,
        item_id: str,
        read_at: datetime | None,
        user_id: str | None = None,
    ) -> bool: ...


class ScheduleRepository(Protocol):
    async def try_lock(self, job: str) -> bool: ...
    async def claim_run(self, job: str, period_key: str, tenant_id: str, now: datetime) -> bool: ...


class ReportTemplateRepository(Protocol):
    async def get(self, tenant_id: str) -> ReportTemplate | None: ...
    async def put(self, tenant_id: str, template: ReportTemplate, now: datetime) -> None: ...
    async def delete(self, tenant_id: str) -> bool: ...


class ShareLinkRepository(Protocol):
    async def add(self, link: ShareLink) -> None: ...
    async def get(self, tenant_id: str, link_id: str) -> ShareLink | None: ...
    async def of_account(
        self, tenant_id: str, account_id: str, *, limit: int, offset: int
    ) -> list[ShareLink]: ...
    async def revoke(self, tenant_id: str, link_id: str, now: datetime) -> None: ...


class EventOutbox(Protocol):
    def add(self, data: EventData, *, trace_headers: Sequence[tuple[str, bytes]] | None = None) -> Any: ...


class ConsumedEvents(Protocol):
    async def claim(self, event_ids: Iterable[str]) -> set[str]:
        """The ids not consumed before: a replayed event is claimed once."""
        ...


@dataclass(frozen=True)
class RawSources:
    """What an impact report is made of: the other services' answers as JSON, None where
    one did not answer (see adapters.report_sources)."""

    usage: dict[str, Any] | None
    previous: dict[str, Any] | None
    year_earlier: dict[str, Any] | None
    history: dict[str, Any] | None
    entitlements: dict[str, Any] | None
    seats: dict[str, Any] | None
    progress: dict[str, Any] | None
    rewards: list[dict[str, Any]] | None
    balance: dict[str, Any] | None
    ledger: list[dict[str, Any]] | None


class ReportSources(Protocol):
    """Reads the other services' figures for one account and period (never raises: a
    source that does not answer is None)."""

    async def sources(self, tenant_id: str, account_id: str, period: Period) -> RawSources: ...


class UnitOfWork(Protocol):
    """One transaction over the repositories; rolled back unless committed. Events added
    to the outbox are published if, and only if, it commits."""

    @property
    def rules(self) -> RuleRepository: ...
    @property
    def channels(self) -> ChannelRepository: ...
    @property
    def templates(self) -> TemplateRepository: ...
    @property
    def tenant_settings(self) -> TenantSettingsRepository: ...
    @property
    def preferences(self) -> PreferenceRepository: ...
    @property
    def accounts(self) -> AccountRepository: ...
    @property
    def notifications(self) -> NotificationRepository: ...
    @property
    def deliveries(self) -> DeliveryRepository: ...
    @property
    def inbox_items(self) -> InboxRepository: ...
    @property
    def schedules(self) -> ScheduleRepository: ...
    @property
    def report_templates(self) -> ReportTemplateRepository: ...
    @property
    def share_links(self) -> ShareLinkRepository: ...
    @property
    def outbox(self) -> EventOutbox: ...

    def inbox(self, consumer: str) -> ConsumedEvents: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None: ...
