"""Repositories: rows ↔ domain objects. They never commit (the unit of work does)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_rewards.adapters import tables as t
from tangible_rewards.domain.evaluation import ProgressKey
from tangible_rewards.domain.model import MilestoneRule, Reward, RewardKind, RuleKind


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


def _rule(row: RowMapping) -> MilestoneRule:
    return MilestoneRule(
        id=row["id"],
        key=row["key"],
        version=row["version"],
        name=row["name"],
        kind=RuleKind(row["kind"]),
        reward=reward_from_json(row["reward"]),
        enabled=row["enabled"],
        params=dict(row["params"]),
    )


class RuleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, tenant_id: str, rule: MilestoneRule) -> None:
        await self._session.execute(
            insert(t.milestone_rules).values(
                id=rule.id,
                tenant_id=tenant_id,
                key=rule.key,
                version=rule.version,
                name=rule.name,
                kind=rule.kind.value,
                params=rule.params,
                reward=reward_to_json(rule.reward),
                enabled=rule.enabled,
            )
        )

    async def latest(self, tenant_id: str, key: str) -> MilestoneRule | None:
        row = (
            (
                await self._session.execute(
                    select(t.milestone_rules)
                    .where(t.milestone_rules.c.tenant_id == tenant_id, t.milestone_rules.c.key == key)
                    .order_by(t.milestone_rules.c.version.desc())
                    .limit(1)
                )
            )
            .mappings()
            .first()
        )
        return _rule(row) if row else None

    async def enabled_for(self, tenant_ids: Iterable[str]) -> dict[str, list[MilestoneRule]]:
        """The latest version of every enabled rule, per tenant."""
        rows = (
            await self._session.execute(
                text(
                    """
                    SELECT DISTINCT ON (tenant_id, key) *
                    FROM milestone_rules WHERE tenant_id = ANY(:tenants)
                    ORDER BY tenant_id, key, version DESC
                    """
                ),
                {"tenants": sorted(set(tenant_ids))},
            )
        ).mappings()
        result: dict[str, list[MilestoneRule]] = {}
        for row in rows:
            if row["enabled"]:
                result.setdefault(row["tenant_id"], []).append(_rule(row))
        return result


_ADD_PROGRESS = text(
    """
    INSERT INTO progress AS p (tenant_id, account_id, rule_id, period_key, value)
    SELECT * FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:rules AS text[]),
                         CAST(:periods AS text[]), CAST(:amounts AS numeric[]))
    ON CONFLICT (tenant_id, account_id, rule_id, period_key)
    DO UPDATE SET value = p.value + EXCLUDED.value, updated_at = now()
    RETURNING tenant_id, account_id, rule_id, period_key, value
    """
)


class ProgressRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, increments: Mapping[ProgressKey, float]) -> dict[ProgressKey, float]:
        if not increments:
            return {}
        keys = list(increments)
        rows = await self._session.execute(
            _ADD_PROGRESS,
            {
                "tenants": [k.tenant_id for k in keys],
                "accounts": [k.account_id for k in keys],
                "rules": [k.rule_id for k in keys],
                "periods": [k.period_key for k in keys],
                "amounts": [increments[k] for k in keys],
            },
        )
        return {ProgressKey(r.tenant_id, r.account_id, r.rule_id, r.period_key): float(r.value) for r in rows}

    async def for_account(self, tenant_id: str, account_id: str) -> dict[tuple[str, str], float]:
        rows = await self._session.execute(
            text("SELECT rule_id, period_key, value FROM progress WHERE tenant_id = :t AND account_id = :a"),
            {"t": tenant_id, "a": account_id},
        )
        return {(r.rule_id, r.period_key): float(r.value) for r in rows}


class RewardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(
        self, granted: Sequence[tuple[str, ProgressKey, MilestoneRule]], at: datetime
    ) -> set[str]:
        """Insert one reward per (account, rule, period); returns the ids actually inserted,
        so replays and concurrent consumers reward at most once."""
        if not granted:
            return set()
        rows = await self._session.execute(
            text(
                """
                INSERT INTO rewards (id, tenant_id, account_id, rule_id, rule_version, period_key, kind, reward, granted_at)
                SELECT id, tenant_id, account_id, rule_id, rule_version, period_key, kind, CAST(reward AS jsonb), :at
                FROM unnest(CAST(:ids AS text[]), CAST(:tenants AS text[]), CAST(:accounts AS text[]),
                            CAST(:rules AS text[]), CAST(:versions AS int[]), CAST(:periods AS text[]),
                            CAST(:kinds AS text[]), CAST(:rewards AS text[]))
                    AS r(id, tenant_id, account_id, rule_id, rule_version, period_key, kind, reward)
                ON CONFLICT (tenant_id, account_id, rule_id, period_key) DO NOTHING
                RETURNING id
                """
            ),
            {
                "at": at,
                "ids": [g[0] for g in granted],
                "tenants": [g[1].tenant_id for g in granted],
                "accounts": [g[1].account_id for g in granted],
                "rules": [g[2].id for g in granted],
                "versions": [g[2].version for g in granted],
                "periods": [g[1].period_key for g in granted],
                "kinds": [g[2].reward.kind.value for g in granted],
                "rewards": [json.dumps(reward_to_json(g[2].reward)) for g in granted],
            },
        )
        return {r.id for r in rows}

    async def count_for_account(self, tenant_id: str, account_id: str) -> int:
        found = await self._session.scalar(
            text("SELECT count(*) FROM rewards WHERE tenant_id = :t AND account_id = :a"),
            {"t": tenant_id, "a": account_id},
        )
        return int(found or 0)
