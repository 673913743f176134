"""Customer-facing reads of the ledger: spendable balance by expiry, and history with provenance."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_rewards.service_layer.reads import ExpiryBucket, HistoryEntry


class LedgerReads:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def spendable(
        self, tenant_id: str, account_id: str, unit: str, now: datetime
    ) -> list[ExpiryBucket]:
        """Unexpired credit grouped by expiry, soonest first (never-expiring last)."""
        rows = await self._session.execute(
            text(
                """
                SELECT sum(remaining) AS amount, expires_at FROM credit_buckets
                WHERE tenant_id = :t AND account_id = :a AND unit = :u AND status = 'open' AND remaining > 0
                  AND (expires_at IS NULL OR expires_at > :now)
                GROUP BY expires_at ORDER BY expires_at NULLS LAST
                """
            ),
            {"t": tenant_id, "a": account_id, "u": unit, "now": now},
        )
        return [ExpiryBucket(Decimal(r.amount), r.expires_at) for r in rows]

    async def history(
        self, tenant_id: str, account_id: str, unit: str, *, limit: int, offset: int
    ) -> tuple[list[HistoryEntry], int]:
        """The account's own side of each transaction, newest first."""
        params = {"t": tenant_id, "a": account_id, "u": unit, "limit": limit, "offset": offset}
        where = (
            "e.tenant_id = :t AND e.account_id = :a AND e.unit = :u AND e.ledger_account = 'account_balance'"
        )
        rows = await self._session.execute(
            text(
                f"""
                SELECT e.id, e.transaction_id, x.kind, e.amount, e.bucket_id, c.expires_at, x.provenance,
                       e.created_at
                FROM ledger_entries e
                JOIN ledger_transactions x ON x.id = e.transaction_id
                JOIN credit_buckets c ON c.id = e.bucket_id
                WHERE {where} ORDER BY e.id DESC LIMIT :limit OFFSET :offset
                """
            ),
            params,
        )
        total = await self._session.scalar(
            text(f"SELECT count(*) FROM ledger_entries e WHERE {where}"), params
        )
        entries = [
            HistoryEntry(
                r.id,
                r.transaction_id,
                r.kind,
                Decimal(r.amount),
                r.bucket_id,
                r.expires_at,
                dict(r.provenance),
                r.created_at,
            )
            for r in rows
        ]
        return entries, int(total or 0)
