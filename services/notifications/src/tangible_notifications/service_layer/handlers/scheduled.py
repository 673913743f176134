"""Scheduled work: digests of held notifications, quarterly impact summaries.

Each job runs under a transaction-scoped advisory lock (one replica at a time) and looks
at what is due *now* by the injected clock, so a scheduler that was down catches up on
its next tick; unique keys make a repeated run a no-op.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from tangible_notifications.domain.defaults import DIGEST, default_template
from tangible_notifications.domain.model import (
    Channel,
    Notification,
    NotificationRule,
    Preference,
    Priority,
    Recipient,
    SourceEvent,
    Status,
    Template,
)
from tangible_notifications.domain.planning import plan
from tangible_notifications.domain.preferences import effective, quiet_until
from tangible_notifications.domain.records import StoredNotification
from tangible_notifications.domain.rendering import render
from tangible_notifications.domain.schedule import digest_id, last_completed_quarter, quarterly_event
from tangible_notifications.service_layer.notifications import load_config, persist
from tangible_notifications.service_layer.ports import UnitOfWork
from tangible_runtime.domain import Clock

QUARTERLY_CATCH_UP = timedelta(days=14)  # a summary more than two weeks late is no longer news


def _digest(
    key: tuple[str, str, str, str],
    held: list[StoredNotification],
    template: Template,
    preference: Preference | None,
    now: datetime,
) -> Notification:
    """One email listing what was held for a recipient over a digest period."""
    tenant, account, recipient, digest_key = key
    first = held[0]
    event = SourceEvent(
        id=f"digest:{digest_key}",
        type=DIGEST,
        tenant_id=tenant,
        account_id=account,
        data={
            "period": digest_key.split(":", 1)[0],
            "items": [{"title": h.title, "body": h.body, "category": h.category} for h in held],
        },
        time=now,
    )
    title, body, html = render(template, event, now)
    quiet = quiet_until(now, preference.quiet_hours, preference.timezone) if preference else None
    return Notification(
        id=digest_id(tenant, recipient, digest_key),
        tenant_id=tenant,
        account_id=account,
        rule_id="digest",
        source_event_id=event.id,
        event_type=DIGEST,
        channel=Channel.EMAIL,
        recipient=Recipient(
            recipient, Channel.EMAIL, recipient.removeprefix("email:"), first.channel_id, first.user_id
        ),
        title=title,
        body=body,
        html=html,
        category="digest",
        priority=Priority.LOW,
        status=Status.PENDING,
        created_at=now,
        deliver_at=quiet or now,
    )


async def send_digests(*, uow: UnitOfWork, clock: Clock, limit: int = 200) -> int:
    """One email per (recipient, digest period) listing the notifications held for it."""
    now = clock.now()
    async with uow:
        if not await uow.schedules.try_lock("digests"):
            return 0
        items = await uow.notifications.held_due(now, limit)
        if not items:
            return 0
        groups: dict[tuple[str, str, str, str], list[StoredNotification]] = defaultdict(list)
        for item in items:
            groups[(item.tenant_id, item.account_id, item.recipient, item.digest_key or "")].append(item)
        templates = await uow.templates.for_tenants({key[0] for key in groups})
        preferences = await uow.preferences.for_accounts({(key[0], key[1]) for key in groups})
        digests: list[Notification] = []
        digested: list[tuple[str, str]] = []
        for key, held in groups.items():
            tenant, account = key[0], key[1]
            template = templates.get(tenant, {}).get((DIGEST, "email")) or default_template(DIGEST)
            preference = effective(preferences.get((tenant, account), []), held[0].user_id)
            digest = _digest(key, held, template, preference, now)
            digests.append(digest)
            digested.extend((h.id, digest.id) for h in held)
        await persist(uow, digests, now)
        await uow.notifications.mark_digested(digested)
        await uow.commit()
    return len(digests)


async def send_quarterly_summaries(*, uow: UnitOfWork, clock: Clock, page: int = 500) -> int:
    """Per opted-in tenant, once per quarter: a summary per account notifications knows."""
    now = clock.now()
    quarter = last_completed_quarter(now)
    late = now.date() - quarter.end > QUARTERLY_CATCH_UP
    made = 0
    async with uow:
        if not await uow.schedules.try_lock("quarterly-summary"):
            return 0
        for tenant in await uow.tenant_settings.quarterly_tenants():
            if not await uow.schedules.claim_run("quarterly-summary", quarter.key, tenant, now) or late:
                continue
            config = (await load_config(uow, {tenant}))[tenant]
            rule = NotificationRule(
                id="quarterly-summary",
                name="Quarterly impact summary",
                event_types=(),
                channels=config.settings.quarterly_channels,
                category="summary",
            )
            after = ""
            while accounts := await uow.accounts.page(tenant, after, page):
                after = accounts[-1]
                preferences = await uow.preferences.for_accounts((tenant, a) for a in accounts)
                planned = [
                    n
                    for account in accounts
                    for n in plan(
                        quarterly_event(tenant, account, quarter, now),
                        config,
                        preferences.get((tenant, account), []),
                        now,
                        rules=[rule],
                    )
                ]
                await persist(uow, planned, now)
                made += len(planned)
        await uow.commit()
    return made
