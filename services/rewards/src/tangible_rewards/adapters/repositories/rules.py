"""Milestone rules: immutable versions under a head (latest version, enabled); account time zones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_rewards.adapters import tables as t
from tangible_rewards.domain.model import (
    MilestoneRule,
    Repeat,
    Reward,
    RewardKind,
    RuleKind,
    params_from_dict,
    params_to_dict,
)
from tangible_rewards.domain.periods import Period


def reward_to_json(reward: Reward) -> dict[str, Any]:
    data = asdict(reward)
    data["kind"] = reward.kind.value
    data["credits"] = str(reward.credits) if reward.credits is not None else None
    return data


def reward_from_json(data: Mapping[str, Any]) -> Reward:
    return Reward(
        **{
            **data,
            "kind": RewardKind(data["kind"]),
            "credits": Decimal(data["credits"]) if data.get("credits") is not None else None,
        }
    )


def rule_from_row(row: RowMapping, enabled: bool = True) -> MilestoneRule:
    kind = RuleKind(row["kind"])
    return MilestoneRule(
        id=row["id"],
        key=row["key"],
        version=row["version"],
        name=row["name"],
        kind=kind,
        params=params_from_dict(kind, dict(row["params"])),
        reward=reward_from_json(row["reward"]),
        repeat=Repeat(row["repeat"]),
        repeat_period=Period(row["repeat_period"]) if row["repeat_period"] else None,
        enabled=enabled,
        series=row["series"],
        actor=row["actor"],
        created_at=row["created_at"],
    )


_CURRENT = text(
    """
    SELECT r.*, m.enabled FROM milestones m
    JOIN milestone_rules r ON r.tenant_id = m.tenant_id AND r.key = m.key AND r.version = m.latest_version
    WHERE m.tenant_id = ANY(:tenants) AND m.enabled
    ORDER BY r.tenant_id, r.key
    """
)

_FILTER = (
    "m.tenant_id = :tenant AND (CAST(:enabled AS boolean) IS NULL OR m.enabled = CAST(:enabled AS boolean))"
)
_PAGE = text(
    f"""
    SELECT r.*, m.enabled FROM milestones m
    JOIN milestone_rules r ON r.tenant_id = m.tenant_id AND r.key = m.key AND r.version = m.latest_version
    WHERE {_FILTER} ORDER BY m.key LIMIT :limit OFFSET :offset
    """
)
_COUNT = text(f"SELECT count(*) FROM milestones m WHERE {_FILTER}")


class RuleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_version(self, tenant_id: str, rule: MilestoneRule) -> None:
        """Insert a version and point the head at it (creating the head for version 1)."""
        await self._session.execute(
            insert(t.milestone_rules).values(
                id=rule.id,
                tenant_id=tenant_id,
                key=rule.key,
                version=rule.version,
                name=rule.name,
                kind=rule.kind.value,
                params=params_to_dict(rule.params),
                reward=reward_to_json(rule.reward),
                repeat=rule.repeat.value,
                repeat_period=rule.repeat_period.value if rule.repeat_period else None,
                series=rule.series,
                actor=rule.actor,
                created_at=rule.created_at,
            )
        )
        head = pg_insert(t.milestones).values(
            tenant_id=tenant_id, key=rule.key, latest_version=rule.version, enabled=rule.enabled
        )
        await self._session.execute(
            head.on_conflict_do_update(
                index_elements=["tenant_id", "key"],
                set_={"latest_version": rule.version, "updated_at": func.now()},
            )
        )

    async def current(self, tenant_id: str, key: str, *, lock: bool = False) -> MilestoneRule | None:
        """The latest version with the head's enabled flag; `lock` serialises revisions."""
        head_query = select(t.milestones).where(
            t.milestones.c.tenant_id == tenant_id, t.milestones.c.key == key
        )
        head = (
            (await self._session.execute(head_query.with_for_update() if lock else head_query))
            .mappings()
            .first()
        )
        if head is None:
            return None
        return await self.version(tenant_id, key, head["latest_version"], enabled=head["enabled"])

    async def version(
        self, tenant_id: str, key: str, version: int, *, enabled: bool = True
    ) -> MilestoneRule | None:
        row = (
            (
                await self._session.execute(
                    select(t.milestone_rules).where(
                        t.milestone_rules.c.tenant_id == tenant_id,
                        t.milestone_rules.c.key == key,
                        t.milestone_rules.c.version == version,
                    )
                )
            )
            .mappings()
            .first()
        )
        return rule_from_row(row, enabled) if row else None

    async def versions(
        self, tenant_id: str, key: str, *, limit: int, offset: int
    ) -> tuple[list[MilestoneRule], int]:
        rules = t.milestone_rules
        where = (rules.c.tenant_id == tenant_id, rules.c.key == key)
        rows = (
            await self._session.execute(
                select(rules).where(*where).order_by(rules.c.version.desc()).limit(limit).offset(offset)
            )
        ).mappings()
        total = await self._session.scalar(select(func.count()).select_from(rules).where(*where))
        enabled = await self._session.scalar(
            select(t.milestones.c.enabled).where(
                t.milestones.c.tenant_id == tenant_id, t.milestones.c.key == key
            )
        )
        return [rule_from_row(r, bool(enabled)) for r in rows], int(total or 0)

    async def set_enabled(self, tenant_id: str, key: str, enabled: bool) -> bool:
        result = await self._session.execute(
            update(t.milestones)
            .where(t.milestones.c.tenant_id == tenant_id, t.milestones.c.key == key)
            .values(enabled=enabled, updated_at=func.now())
        )
        return bool(getattr(result, "rowcount", 0))

    async def page(
        self, tenant_id: str, *, enabled: bool | None, limit: int, offset: int
    ) -> tuple[list[MilestoneRule], int]:
        params = {"tenant": tenant_id, "enabled": enabled, "limit": limit, "offset": offset}
        rows = (await self._session.execute(_PAGE, params)).mappings()
        total = await self._session.scalar(_COUNT, params)
        return [rule_from_row(r, r["enabled"]) for r in rows], int(total or 0)

    async def enabled_for(self, tenant_ids: Iterable[str]) -> dict[str, list[MilestoneRule]]:
        """The current version of every enabled rule, per tenant."""
        tenants = sorted(set(tenant_ids))
        result: dict[str, list[MilestoneRule]] = {}
        if not tenants:
            return result
        for row in (await self._session.execute(_CURRENT, {"tenants": tenants})).mappings():
            result.setdefault(row["tenant_id"], []).append(rule_from_row(row))
        return result


class ProfileRepository:
    """Account time zones (set by admins; the tenant default applies otherwise)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def set_time_zone(self, tenant_id: str, account_id: str, time_zone: str) -> None:
        statement = pg_insert(t.account_profiles).values(
            tenant_id=tenant_id, account_id=account_id, time_zone=time_zone
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "account_id"],
                set_={"time_zone": time_zone, "updated_at": func.now()},
            )
        )

    async def time_zones(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        keys = sorted(set(pairs))
        if not keys:
            return {}
        rows = await self._session.execute(
            text(
                """
                SELECT p.tenant_id, p.account_id, p.time_zone FROM account_profiles p
                JOIN unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[])) AS k(tenant_id, account_id)
                  ON p.tenant_id = k.tenant_id AND p.account_id = k.account_id
                """
            ),
            {"tenants": [k[0] for k in keys], "accounts": [k[1] for k in keys]},
        )
        return {(r.tenant_id, r.account_id): r.time_zone for r in rows}
