"""Idempotency keys of redemptions: the first request's outcome, replayed for the same body."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_rewards.service_layer.reads import StoredOutcome


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, tenant_id: str, account_id: str, key: str, request_hash: str, at: datetime) -> bool:
        """True if this transaction owns the key. A concurrent claim of the same key waits here
        until the owner commits (then it finds the stored outcome) or rolls back (then it owns it)."""
        row = await self._session.execute(
            text(
                """
                INSERT INTO idempotency_keys (tenant_id, account_id, key, request_hash, created_at)
                VALUES (:t, :a, :k, :h, :at) ON CONFLICT DO NOTHING RETURNING key
                """
            ),
            {"t": tenant_id, "a": account_id, "k": key, "h": request_hash, "at": at},
        )
        return row.first() is not None

    async def stored(self, tenant_id: str, account_id: str, key: str) -> StoredOutcome | None:
        row = (
            await self._session.execute(
                text(
                    "SELECT request_hash, status_code, response FROM idempotency_keys "
                    "WHERE tenant_id = :t AND account_id = :a AND key = :k"
                ),
                {"t": tenant_id, "a": account_id, "k": key},
            )
        ).first()
        if row is None or row.status_code is None:
            return None
        return StoredOutcome(row.request_hash, row.status_code, dict(row.response))

    async def store(
        self, tenant_id: str, account_id: str, key: str, status_code: int, response: dict[str, Any]
    ) -> None:
        await self._session.execute(
            text(
                "UPDATE idempotency_keys SET status_code = :s, response = CAST(:r AS jsonb) "
                "WHERE tenant_id = :t AND account_id = :a AND key = :k"
            ),
            {
                "t": tenant_id,
                "a": account_id,
                "k": key,
                "s": status_code,
                "r": json.dumps(response, default=str),
            },
        )

    async def prune(self, older_than: datetime) -> int:
        result = await self._session.execute(
            text("DELETE FROM idempotency_keys WHERE created_at < :cutoff"), {"cutoff": older_than}
        )
        return int(getattr(result, "rowcount", 0) or 0)
