"""Rules: rows ↔ domain objects. Repositories never commit (the unit of work does)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_notifications.adapters import tables as t
from tangible_notifications.domain.model import Channel, NotificationRule, Priority, RuleFilters, Template


def rule_from_row(row: RowMapping) -> NotificationRule:
    template = None
    if row["title_template"] is not None:
        template = Template(row["title_template"], row["body_template"] or "", row["html_template"])
    filters = row["filters"] or {}
    return NotificationRule(
        id=row["id"],
        name=row["name"],
        event_types=tuple(row["event_types"]),
        channels=tuple(Channel(c) for c in row["channels"]),
        template=template,
        priority=Priority(row["priority"]),
        category=row["category"] or None,
        filters=RuleFilters(filters.get("feature_key"), filters.get("min_threshold_percent")),
        enabled=row["enabled"],
    )


def _values(rule: NotificationRule) -> dict[str, object]:
    return {
        "name": rule.name,
        "event_types": list(rule.event_types),
        "channels": [c.value for c in rule.channels],
        "title_template": rule.template.title if rule.template else None,
        "body_template": rule.template.body if rule.template else None,
        "html_template": rule.template.html if rule.template else None,
        "priority": rule.priority.value,
        "category": rule.category or "",
        "filters": {
            k: v
            for k, v in (
                ("feature_key", rule.filters.feature_key),
                ("min_threshold_percent", rule.filters.min_threshold_percent),
            )
            if v is not None
        },
        "enabled": rule.enabled,
    }


class RuleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, tenant_id: str, rule: NotificationRule) -> None:
        await self._session.execute(insert(t.rules).values(id=rule.id, tenant_id=tenant_id, **_values(rule)))

    async def replace(self, tenant_id: str, rule: NotificationRule) -> bool:
        result = await self._session.execute(
            update(t.rules)
            .where(t.rules.c.tenant_id == tenant_id, t.rules.c.id == rule.id)
            .values(**_values(rule))
            .returning(t.rules.c.id)
        )
        return result.first() is not None

    async def get(self, tenant_id: str, rule_id: str) -> NotificationRule | None:
        row = (
            (
                await self._session.execute(
                    select(t.rules).where(t.rules.c.tenant_id == tenant_id, t.rules.c.id == rule_id)
                )
            )
            .mappings()
            .first()
        )
        return rule_from_row(row) if row else None

    async def page(self, tenant_id: str, *, limit: int, offset: int) -> list[NotificationRule]:
        query = (
            select(t.rules)
            .where(t.rules.c.tenant_id == tenant_id)
            .order_by(t.rules.c.created_at, t.rules.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [rule_from_row(r) for r in (await self._session.execute(query)).mappings()]

    async def event_patterns(self) -> dict[str, set[str]]:
        """Every tenant's event type patterns of enabled rules (one small query per batch)."""
        query = select(t.rules.c.tenant_id, t.rules.c.event_types).where(t.rules.c.enabled.is_(True))
        result: dict[str, set[str]] = {}
        for tenant_id, patterns in await self._session.execute(query):
            result.setdefault(tenant_id, set()).update(patterns)
        return result

    async def for_tenants(self, tenant_ids: Iterable[str]) -> dict[str, list[NotificationRule]]:
        query = select(t.rules).where(t.rules.c.tenant_id.in_(set(tenant_ids)), t.rules.c.enabled.is_(True))
        result: dict[str, list[NotificationRule]] = {}
        for row in (await self._session.execute(query)).mappings():
            result.setdefault(row["tenant_id"], []).append(rule_from_row(row))
        return result
