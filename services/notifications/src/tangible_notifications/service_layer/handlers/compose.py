"""Composing personalised notifications: fetch the impact report, render, release deliveries.

Renewal reminders and quarterly summaries are persisted by the consumer or scheduler with
their deliveries held back; this step adds the account's figures (or the fallback text)
and makes the deliveries due. Rows stay locked (SKIP LOCKED) while the reports are read,
so each notification is composed by one replica, once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

from tangible_notifications.domain.defaults import QUARTERLY_SUMMARY, local_dates, localised
from tangible_notifications.domain.impact import ImpactFacts, impact_context
from tangible_notifications.domain.model import SourceEvent, Template
from tangible_notifications.domain.periods import Period, PeriodKind
from tangible_notifications.domain.records import Composed, InboxItem, StoredNotification
from tangible_notifications.domain.rendering import render
from tangible_notifications.domain.report_template import DEFAULT_TEMPLATE, ReportTemplate
from tangible_notifications.service_layer.handlers.reports import (
    SummaryReports,
    reader_locale,
    summary_context,
)
from tangible_notifications.service_layer.notifications import deliver_to_inbox
from tangible_notifications.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock

# (tenant, account, from, to, how the note names the period, locale) → the account's figures
FetchFacts = Callable[[str, str, date, date, str, str], Awaitable[ImpactFacts]]


def _iso(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def window(
    event_type: str, data: dict[str, Any], term_start: date | None, today: date
) -> tuple[date, date, str]:
    """(from, to, how the note names it): the quarter for summaries, else the license term."""
    if event_type == QUARTERLY_SUMMARY:
        start, end = _iso(data.get("from")), _iso(data.get("to"))
        if start and end:
            return start, end, "this quarter"
    if term_start is None:
        renewal = _iso(data.get("renewal_date"))
        term_start = (renewal or today) - timedelta(days=365)
    return min(term_start, today), today, "this term"


def _event(n: StoredNotification) -> SourceEvent:
    event = n.context.get("event", {})
    return SourceEvent(
        id=n.source_event_id,
        type=n.event_type,
        tenant_id=n.tenant_id,
        account_id=n.account_id,
        data=n.context.get("data", {}),
        time=datetime.fromisoformat(event["time"]) if event.get("time") else None,
    )


def _inbox_item(n: StoredNotification, text: Composed, now: datetime) -> InboxItem:
    return InboxItem(
        id=n.id,
        tenant_id=n.tenant_id,
        account_id=n.account_id,
        user_id=n.user_id,
        title=text.title,
        body=text.body,
        category=n.category,
        priority=n.priority,
        created_at=now,
    )


async def compose_pending(
    *, uow: UnitOfWork, fetch: FetchFacts, clock: Clock, limit: int, reports: SummaryReports | None = None
) -> int:
    now = clock.now()
    async with uow:
        waiting = await uow.notifications.claim_composing(limit)
        if not waiting:
            return 0
        facts: dict[tuple[str, str, date, date, str], ImpactFacts] = {}
        summaries: dict[tuple[str, str, date, date, str], dict[str, Any]] = {}
        report_templates: dict[str, ReportTemplate] = {}
        locales: dict[tuple[str, str, str | None], str] = {}
        composed: list[Composed] = []
        for n in waiting:
            event = _event(n)
            if n.tenant_id not in report_templates:  # its default language, as for its reports
                report_templates[n.tenant_id] = (
                    await uow.report_templates.get(n.tenant_id) or DEFAULT_TEMPLATE
                )
            # the reader's language (the user's, the account's, the tenant's default), as the report's
            reader = (n.tenant_id, n.account_id, n.user_id)
            if reader not in locales:
                tenant_template = report_templates[n.tenant_id]
                locales[reader] = await reader_locale(
                    uow, n.tenant_id, n.account_id, n.user_id, tenant_template
                )
            locale = locales[reader]
            term_start = await uow.accounts.term_start(n.tenant_id, n.account_id)
            start, end, period = window(event.type, event.data, term_start, now.date())
            key = (n.tenant_id, n.account_id, start, end, locale)
            if key not in facts:  # one read per account, window and language, shared by its channels
                facts[key] = await fetch(n.tenant_id, n.account_id, start, end, period, locale)
            context = impact_context(facts[key], locale) | {"dates": local_dates(event.data, locale)}
            if reports is not None and event.type == QUARTERLY_SUMMARY:
                if key not in summaries:  # one report and share link per account, quarter and language
                    quarter = Period(PeriodKind.QUARTER, start, end)
                    summaries[key] = await summary_context(
                        uow, reports, n.tenant_id, n.account_id, quarter, now, locale=locale
                    )
                context |= summaries[key]
            # the built-in template in the reader's language; a tenant's own as it wrote it
            template = localised(n.template or Template("", ""), n.event_type, locale)
            title, body, html = render(template, event, now, context)
            status = "delivered" if n.channel == "inbox" else "pending"
            composed.append(Composed(n.id, title, body, html, status))
        await uow.notifications.composed(composed)
        await uow.deliveries.release_scheduled([n.id for n in waiting if n.channel != "inbox"], now)
        inbox = [(n, text) for n, text in zip(waiting, composed, strict=True) if n.channel == "inbox"]
        await uow.deliveries.complete_inbox([n.id for n, _ in inbox], now)
        await deliver_to_inbox(
            uow, [(_inbox_item(n, text, now), n.source_event_id) for n, text in inbox], now
        )
        await uow.commit()
    return len(waiting)
