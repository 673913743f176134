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

from sqlalchemy.engine import RowMapping

from tangible_notifications.domain.defaults import QUARTERLY_SUMMARY
from tangible_notifications.domain.impact import ImpactFacts, impact_context
from tangible_notifications.domain.model import SourceEvent, Template
from tangible_notifications.domain.rendering import render
from tangible_notifications.service_layer import translate
from tangible_notifications.service_layer.unit_of_work import UnitOfWork
from tangible_runtime.domain import Clock

FetchFacts = Callable[[str, str, date, date, str], Awaitable[ImpactFacts]]


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


def _event(row: RowMapping) -> SourceEvent:
    context = row["context"] or {}
    event = context.get("event", {})
    return SourceEvent(
        id=row["source_event_id"],
        type=row["event_type"],
        tenant_id=row["tenant_id"],
        account_id=row["account_id"],
        data=context.get("data", {}),
        time=datetime.fromisoformat(event["time"]) if event.get("time") else None,
    )


async def compose_pending(*, uow: UnitOfWork, fetch: FetchFacts, clock: Clock, limit: int) -> int:
    now = clock.now()
    async with uow:
        rows = await uow.notifications.claim_composing(limit)
        if not rows:
            return 0
        facts: dict[tuple[str, str, date, date], ImpactFacts] = {}
        composed: list[dict[str, Any]] = []
        inbox: list[dict[str, Any]] = []
        for row in rows:
            event = _event(row)
            term_start = await uow.accounts.term_start(row["tenant_id"], row["account_id"])
            start, end, period = window(event.type, event.data, term_start, now.date())
            key = (row["tenant_id"], row["account_id"], start, end)
            if key not in facts:  # one read per account and window, shared by its channels
                facts[key] = await fetch(row["tenant_id"], row["account_id"], start, end, period)
            spec = row["template"] or {}
            template = Template(spec.get("title", ""), spec.get("body", ""), spec.get("html"))
            title, body, html = render(template, event, now, impact_context(facts[key]))
            is_inbox = row["channel"] == "inbox"
            composed.append(
                {"id": row["id"], "title": title, "body": body, "html": html}
                | {"status": "delivered" if is_inbox else "pending"}
            )
            if is_inbox:
                inbox.append(dict(row) | {"title": title, "body": body})
        await uow.notifications.composed(composed)
        await uow.deliveries.release_scheduled([r["id"] for r in rows if r["channel"] != "inbox"], now)
        await _deliver_inbox(uow, inbox, now)
        await uow.commit()
    return len(rows)


async def _deliver_inbox(uow: UnitOfWork, rows: list[dict[str, Any]], now: datetime) -> None:
    await uow.inbox_items.add(
        [
            {
                k: r[k]
                for k in ("id", "tenant_id", "account_id", "user_id", "title", "body", "category", "priority")
            }
            | {"created_at": now}
            for r in rows
        ]
    )
    await uow.deliveries.complete_inbox([r["id"] for r in rows], now)
    await uow.deliveries.log_attempts(
        [
            {"delivery_id": r["id"], "number": 1, "attempted_at": now, "outcome": "succeeded"}
            | {"status_code": None, "error": None, "duration_ms": 0}
            for r in rows
        ]
    )
    for r in rows:
        uow.outbox.add(translate.delivered(r | {"notification_id": r["id"]}, r["source_event_id"], 1))
