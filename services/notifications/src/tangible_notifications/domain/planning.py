"""From one source event to the notifications it makes: rules × channels × recipients.

Pure: the consumer loads the tenant's configuration once per batch and calls `plan` per
event. Ids are derived from (tenant, event, rule, recipient, channel), so a redelivered
event maps onto the notifications it already made.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tangible_notifications.domain.defaults import CATEGORIES, CSM_SIGNALS, default_template
from tangible_notifications.domain.model import (
    Channel,
    Endpoint,
    Notification,
    NotificationRule,
    Preference,
    Priority,
    Recipient,
    SourceEvent,
    Status,
    Template,
    TenantSettings,
)
from tangible_notifications.domain.preferences import Decision, decide, digest_slot, effective, quiet_until
from tangible_notifications.domain.rendering import context_for, render, uses_impact

CSM_RULE = NotificationRule(
    id="csm",
    name="Customer-success signals",
    event_types=CSM_SIGNALS,
    channels=(Channel.CSM,),
    priority=Priority.HIGH,
    category="signals",
)


@dataclass(frozen=True)
class TenantConfig:
    rules: Sequence[NotificationRule] = ()
    endpoints: Sequence[Endpoint] = ()
    templates: dict[tuple[str, str], Template] = field(default_factory=dict)
    settings: TenantSettings = field(default_factory=TenantSettings)


def notification_id(tenant_id: str, event_id: str, rule_id: str, recipient: str, channel: Channel) -> str:
    return str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{event_id}/{rule_id}/{recipient}/{channel.value}")
    )


def _rules_for(event: SourceEvent, config: TenantConfig) -> list[NotificationRule]:
    rules = [r for r in config.rules if r.matches(event.type, event.data)]
    if event.type in CSM_SIGNALS and not any(Channel.CSM in r.channels for r in rules):
        rules.append(CSM_RULE)
    return rules


def _email_targets(endpoint: Endpoint, preferences: Sequence[Preference]) -> Iterator[tuple[str, str | None]]:
    yield from ((address, None) for address in endpoint.recipients)
    if endpoint.to_account_contacts:
        yield from ((p.email, p.user_id) for p in preferences if p.email)


def recipients(
    event: SourceEvent, channel: Channel, config: TenantConfig, preferences: Sequence[Preference]
) -> Iterator[Recipient]:
    if channel is Channel.INBOX:
        if config.settings.inbox_enabled:
            user = event.user_id
            key = f"user:{user}" if user else f"account:{event.account_id}"
            yield Recipient(key, Channel.INBOX, key, user_id=user)
        return
    for endpoint in config.endpoints:
        if not endpoint.enabled or endpoint.is_csm != (channel is Channel.CSM):
            continue
        if channel is not Channel.CSM and endpoint.kind is not channel:
            continue
        if endpoint.kind is Channel.WEBHOOK and endpoint.url:
            yield Recipient(f"endpoint:{endpoint.id}", Channel.WEBHOOK, endpoint.url, endpoint.id)
        elif endpoint.kind is Channel.EMAIL:
            seen: set[str] = set()
            for address, user in _email_targets(endpoint, preferences):
                if address.lower() not in seen:
                    seen.add(address.lower())
                    yield Recipient(f"email:{address.lower()}", Channel.EMAIL, address, endpoint.id, user)


def stored_or_default(event_type: str, channel: Channel, config: TenantConfig) -> Template:
    return config.templates.get((event_type, channel.value)) or default_template(event_type)


def template_for(rule: NotificationRule, event_type: str, channel: Channel, config: TenantConfig) -> Template:
    return rule.template or stored_or_default(event_type, channel, config)


def plan(
    event: SourceEvent,
    config: TenantConfig,
    preferences: Sequence[Preference],
    now: datetime,
    rules: Sequence[NotificationRule] | None = None,
) -> list[Notification]:
    """`rules` overrides the tenant's (scheduled summaries and system notices use their own)."""
    planned: list[Notification] = []
    for rule in _rules_for(event, config) if rules is None else rules:
        category = rule.category or CATEGORIES.get(event.type, "general")
        for channel in rule.channels:
            for recipient in recipients(event, channel, config, preferences):
                template = template_for(rule, event.type, recipient.channel, config)
                planned.append(
                    _notification(event, rule, recipient, template, category, config, preferences, now)
                )
    return planned


def _notification(
    event: SourceEvent,
    rule: NotificationRule,
    recipient: Recipient,
    template: Template,
    category: str,
    config: TenantConfig,
    preferences: Sequence[Preference],
    now: datetime,
) -> Notification:
    preference = effective(preferences, recipient.user_id)
    outcome = decide(preference, recipient.channel, category, rule.priority)
    composing = uses_impact(template)
    title = body = ""
    html: str | None = None
    if not composing:
        title, body, html = render(template, event, now)
    status = Status.COMPOSING if composing else Status.PENDING
    deliver_at: datetime | None = now
    digest_key = digest_due_at = None
    if outcome.decision is Decision.SUPPRESS:
        status, deliver_at = Status.SUPPRESSED, None
    elif outcome.decision is Decision.HOLD and not composing and outcome.digest_mode:
        timezone = preference.timezone if preference else "UTC"
        digest_key, digest_due_at = digest_slot(
            now, outcome.digest_mode, timezone, config.settings.digest_hour
        )
        status, deliver_at = Status.HELD, None
    elif recipient.channel is Channel.EMAIL and rule.priority is not Priority.CRITICAL and preference:
        deliver_at = quiet_until(now, preference.quiet_hours, preference.timezone) or now
    return Notification(
        id=notification_id(event.tenant_id, event.id, rule.id, recipient.key, recipient.channel),
        tenant_id=event.tenant_id,
        account_id=event.account_id,
        rule_id=rule.id,
        source_event_id=event.id,
        event_type=event.type,
        channel=recipient.channel,
        recipient=recipient,
        title=title,
        body=body,
        html=html,
        category=category,
        priority=rule.priority,
        status=status,
        created_at=now,
        deliver_at=deliver_at,
        digest_key=digest_key,
        digest_due_at=digest_due_at,
        # webhooks carry the source event; composing renders later from it
        context=context_for(event, now) if composing or recipient.channel is Channel.WEBHOOK else None,
        template=template if composing else None,
    )
