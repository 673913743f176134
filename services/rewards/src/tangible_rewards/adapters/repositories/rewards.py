"""Rewards granted: one row per (tenant, account, rule key, reward period), enforced by a unique key."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_rewards.adapters.repositories.rules import reward_to_json
from tangible_rewards.domain.evaluation import Achievement
from tangible_rewards.domain.model import MilestoneRule
from tangible_rewards.service_layer.reads import GrantedReward

_CLAIM = text(
    """
    INSERT INTO rewards (id, tenant_id, account_id, rule_id, rule_version, rule_key, period_key, reward_period,
                         kind, name, credits, reward, granted_at)
    SELECT id, t, a, rid, v, k, p, rp, kind, n, c, CAST(r AS jsonb), :at
    FROM unnest(CAST(:ids AS text[]), CAST(:tenants AS text[]), CAST(:accounts AS text[]),
                CAST(:rule_ids AS text[]), CAST(:versions AS int[]), CAST(:keys AS text[]),
                CAST(:periods AS text[]), CAST(:reward_periods AS text[]), CAST(:kinds AS text[]),
                CAST(:names AS text[]), CAST(:credits AS numeric[]), CAST(:rewards AS text[]))
      AS x(id, t, a, rid, v, k, p, rp, kind, n, c, r)
    ON CONFLICT (tenant_id, account_id, rule_key, reward_period) DO NOTHING
    RETURNING id
    """
)


class RewardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, claims: Sequence[tuple[str, Achievement]], at: datetime) -> set[str]:
        """Insert one reward per (account, rule key, reward period); returns the ids actually
        inserted, so replays, restarts and concurrent consumers reward at most once."""
        if not claims:
            return set()
        achievements = [a for _, a in claims]
        rows = await self._session.execute(
            _CLAIM,
            {
                "at": at,
                "ids": [reward_id for reward_id, _ in claims],
                "tenants": [a.tenant_id for a in achievements],
                "accounts": [a.account_id for a in achievements],
                "rule_ids": [a.rule.id for a in achievements],
                "versions": [a.rule.version for a in achievements],
                "keys": [a.rule.key for a in achievements],
                "periods": [a.qualifying for a in achievements],
                "reward_periods": [a.reward_period for a in achievements],
                "kinds": [a.rule.reward.kind.value for a in achievements],
                "names": [a.rule.reward.name or a.rule.name for a in achievements],
                "credits": [a.rule.reward.credits for a in achievements],
                "rewards": [_reward_json(a.rule) for a in achievements],
            },
        )
        return {r.id for r in rows}

    async def existing(self, tenant_id: str, account_id: str) -> set[tuple[str, str]]:
        """(rule key, reward period) of every reward an account holds."""
        rows = await self._session.execute(
            text("SELECT rule_key, reward_period FROM rewards WHERE tenant_id = :t AND account_id = :a"),
            {"t": tenant_id, "a": account_id},
        )
        return {(r.rule_key, r.reward_period) for r in rows}

    async def page(
        self, tenant_id: str, account_id: str, *, limit: int, offset: int
    ) -> tuple[list[GrantedReward], int]:
        params = {"t": tenant_id, "a": account_id, "limit": limit, "offset": offset}
        rows = await self._session.execute(
            text(
                """
                SELECT * FROM rewards WHERE tenant_id = :t AND account_id = :a
                ORDER BY granted_at DESC, id LIMIT :limit OFFSET :offset
                """
            ),
            params,
        )
        total = await self._session.scalar(
            text("SELECT count(*) FROM rewards WHERE tenant_id = :t AND account_id = :a"), params
        )
        return [_reward(r._mapping) for r in rows], int(total or 0)

    async def get(
        self, tenant_id: str, account_id: str, reward_id: str, *, lock: bool = False
    ) -> GrantedReward | None:
        row = (
            await self._session.execute(
                text(
                    "SELECT * FROM rewards WHERE tenant_id = :t AND account_id = :a AND id = :id"
                    + (" FOR UPDATE" if lock else "")
                ),
                {"t": tenant_id, "a": account_id, "id": reward_id},
            )
        ).first()
        return _reward(row._mapping) if row else None

    async def mark_voided(self, reward_id: str, at: datetime) -> None:
        await self._session.execute(
            text("UPDATE rewards SET status = 'voided', voided_at = :at WHERE id = :id"),
            {"id": reward_id, "at": at},
        )


@lru_cache(maxsize=1024)
def _reward_json(rule: MilestoneRule) -> str:
    """Serialised once per rule version, not once per claim."""
    return json.dumps(reward_to_json(rule.reward))


def _reward(m: Any) -> GrantedReward:
    return GrantedReward(
        id=m["id"],
        tenant_id=m["tenant_id"],
        account_id=m["account_id"],
        rule_id=m["rule_id"],
        rule_key=m["rule_key"],
        rule_version=m["rule_version"],
        name=m["name"] or "",
        kind=m["kind"],
        period_key=m["period_key"],
        reward_period=m["reward_period"],
        credits=m["credits"],
        reward=dict(m["reward"]),
        status=m["status"],
        granted_at=m["granted_at"],
    )
