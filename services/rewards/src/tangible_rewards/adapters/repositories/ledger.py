"""The credit ledger's writes: transactions, buckets, entries; balance locks for spending.

Buckets' `remaining` and `account_balances` move only through the ledger_entries trigger,
so they always equal the sum of their entries; their CHECKs refuse a negative balance.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_rewards.domain.ledger import ZERO, BalanceKey, Bucket, NewBucket, Transaction

_BUCKET_COLUMNS = "id, remaining, expires_at, created_at, priority, reward_id"


def _bucket(r: Row[tuple[object, ...]]) -> Bucket:
    m = r._mapping
    return Bucket(m["id"], m["remaining"], m["expires_at"], m["created_at"], m["priority"], m["reward_id"])


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def post(
        self, transactions: Sequence[Transaction], buckets: Sequence[NewBucket], at: datetime
    ) -> None:
        """Write transactions, the buckets they open, and their entries (three statements)."""
        if not transactions:
            return
        await self._session.execute(
            text(
                """
                INSERT INTO ledger_transactions (id, tenant_id, account_id, unit, kind, provenance, created_at)
                SELECT i, t, a, u, k, CAST(p AS jsonb), :at
                FROM unnest(CAST(:ids AS text[]), CAST(:tenants AS text[]), CAST(:accounts AS text[]),
                            CAST(:units AS text[]), CAST(:kinds AS text[]), CAST(:provenance AS text[]))
                  AS x(i, t, a, u, k, p)
                """
            ),
            {
                "at": at,
                "ids": [t.id for t in transactions],
                "tenants": [t.tenant_id for t in transactions],
                "accounts": [t.account_id for t in transactions],
                "units": [t.unit for t in transactions],
                "kinds": [t.kind.value for t in transactions],
                "provenance": [json.dumps(t.provenance, default=str) for t in transactions],
            },
        )
        if buckets:
            await self._session.execute(
                text(
                    """
                    INSERT INTO credit_buckets (id, tenant_id, account_id, unit, transaction_id, reward_id,
                                                priority, granted, expires_at, created_at)
                    SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:tenants AS text[]), CAST(:accounts AS text[]),
                                         CAST(:units AS text[]), CAST(:txns AS text[]), CAST(:rewards AS text[]),
                                         CAST(:priorities AS int[]), CAST(:granted AS numeric[]),
                                         CAST(:expires AS timestamptz[]), CAST(:created AS timestamptz[]))
                    """
                ),
                {
                    "ids": [b.id for b in buckets],
                    "tenants": [b.tenant_id for b in buckets],
                    "accounts": [b.account_id for b in buckets],
                    "units": [b.unit for b in buckets],
                    "txns": [b.transaction_id for b in buckets],
                    "rewards": [b.reward_id for b in buckets],
                    "priorities": [b.priority for b in buckets],
                    "granted": [b.granted for b in buckets],
                    "expires": [b.expires_at for b in buckets],
                    "created": [b.created_at for b in buckets],
                },
            )
        # one order for every writer (by account) so concurrent transactions cannot deadlock
        ordered = sorted(transactions, key=lambda t: (t.tenant_id, t.account_id, t.unit, t.id))
        entries = [(t, e) for t in ordered for e in t.entries]
        await self._session.execute(
            text(
                """
                INSERT INTO ledger_entries (transaction_id, tenant_id, account_id, unit, ledger_account, bucket_id,
                                            amount, created_at)
                SELECT i, t, a, u, l, b, m, :at
                FROM unnest(CAST(:txns AS text[]), CAST(:tenants AS text[]), CAST(:accounts AS text[]),
                            CAST(:units AS text[]), CAST(:ledgers AS text[]), CAST(:buckets AS text[]),
                            CAST(:amounts AS numeric[])) WITH ORDINALITY AS x(i, t, a, u, l, b, m, n)
                ORDER BY n
                """
            ),
            {
                "at": at,
                "txns": [t.id for t, _ in entries],
                "tenants": [t.tenant_id for t, _ in entries],
                "accounts": [t.account_id for t, _ in entries],
                "units": [t.unit for t, _ in entries],
                "ledgers": [e.ledger_account.value for _, e in entries],
                "buckets": [e.bucket_id for _, e in entries],
                "amounts": [e.amount for _, e in entries],
            },
        )

    async def lock_balance(self, key: BalanceKey) -> Decimal | None:
        """Serialises spending on one balance; None when the account never held credits."""
        value = await self._session.scalar(
            text(
                "SELECT balance FROM account_balances WHERE tenant_id = :t AND account_id = :a AND unit = :u "
                "FOR UPDATE"
            ),
            {"t": key[0], "a": key[1], "u": key[2]},
        )
        return value if value is None else Decimal(value)

    async def lock_balances_skip_locked(self, keys: Iterable[BalanceKey]) -> list[BalanceKey]:
        """Lock what no other replica holds; returns the keys locked."""
        wanted = sorted(set(keys))
        if not wanted:
            return []
        rows = await self._session.execute(
            text(
                """
                SELECT b.tenant_id, b.account_id, b.unit FROM account_balances b
                JOIN unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:units AS text[]))
                  AS k(t, a, u) ON b.tenant_id = k.t AND b.account_id = k.a AND b.unit = k.u
                ORDER BY b.tenant_id, b.account_id, b.unit FOR UPDATE OF b SKIP LOCKED
                """
            ),
            {
                "tenants": [k[0] for k in wanted],
                "accounts": [k[1] for k in wanted],
                "units": [k[2] for k in wanted],
            },
        )
        return [(r.tenant_id, r.account_id, r.unit) for r in rows]

    async def balances(self, keys: Iterable[BalanceKey]) -> dict[BalanceKey, Decimal]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        rows = await self._session.execute(
            text(
                """
                SELECT b.tenant_id, b.account_id, b.unit, b.balance FROM account_balances b
                JOIN unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:units AS text[]))
                  AS k(t, a, u) ON b.tenant_id = k.t AND b.account_id = k.a AND b.unit = k.u
                """
            ),
            {
                "tenants": [k[0] for k in wanted],
                "accounts": [k[1] for k in wanted],
                "units": [k[2] for k in wanted],
            },
        )
        found = {(r.tenant_id, r.account_id, r.unit): Decimal(r.balance) for r in rows}
        return {k: found.get(k, ZERO) for k in wanted}

    async def open_buckets(self, key: BalanceKey) -> list[Bucket]:
        rows = await self._session.execute(
            text(
                f"""
                SELECT {_BUCKET_COLUMNS} FROM credit_buckets
                WHERE tenant_id = :t AND account_id = :a AND unit = :u AND status = 'open' AND remaining > 0
                """
            ),
            {"t": key[0], "a": key[1], "u": key[2]},
        )
        return [_bucket(r) for r in rows]

    async def bucket_of_reward(self, reward_id: str) -> tuple[Bucket, str, str] | None:
        """The bucket a credits reward opened, with its unit and status."""
        row = (
            await self._session.execute(
                text(f"SELECT {_BUCKET_COLUMNS}, unit, status FROM credit_buckets WHERE reward_id = :r"),
                {"r": reward_id},
            )
        ).first()
        return (_bucket(row), row.unit, row.status) if row else None

    async def set_status(self, bucket_ids: Sequence[str], status: str) -> None:
        if bucket_ids:
            await self._session.execute(
                text("UPDATE credit_buckets SET status = :s WHERE id = ANY(:ids)"),
                {"s": status, "ids": list(bucket_ids)},
            )

    async def accounts_with_expired_credit(self, now: datetime, limit: int) -> list[BalanceKey]:
        rows = await self._session.execute(
            text(
                """
                SELECT DISTINCT tenant_id, account_id, unit FROM credit_buckets
                WHERE status = 'open' AND expires_at <= :now LIMIT :limit
                """
            ),
            {"now": now, "limit": limit},
        )
        return [(r.tenant_id, r.account_id, r.unit) for r in rows]

    async def expired_buckets(
        self, keys: Sequence[BalanceKey], now: datetime
    ) -> dict[BalanceKey, list[Bucket]]:
        """Open buckets past expiry of balances this transaction holds locked."""
        result: dict[BalanceKey, list[Bucket]] = {k: [] for k in keys}
        if not keys:
            return result
        rows = await self._session.execute(
            text(
                f"""
                SELECT {_BUCKET_COLUMNS}, c.tenant_id, c.account_id, c.unit FROM credit_buckets c
                JOIN unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:units AS text[]))
                  AS k(t, a, u) ON c.tenant_id = k.t AND c.account_id = k.a AND c.unit = k.u
                WHERE c.status = 'open' AND c.expires_at <= :now
                """
            ),
            {
                "tenants": [k[0] for k in keys],
                "accounts": [k[1] for k in keys],
                "units": [k[2] for k in keys],
                "now": now,
            },
        )
        for r in rows:
            result[(r.tenant_id, r.account_id, r.unit)].append(_bucket(r))
        return result

    async def announce_expiring(
        self, now: datetime, until: datetime, limit: int
    ) -> list[tuple[BalanceKey, Bucket]]:
        """Mark buckets expiring before `until` as announced; returns each once, ever."""
        rows = await self._session.execute(
            text(
                f"""
                UPDATE credit_buckets c SET expiry_announced_at = :now
                WHERE c.id IN (
                    SELECT id FROM credit_buckets
                    WHERE status = 'open' AND remaining > 0 AND expiry_announced_at IS NULL
                      AND expires_at > :now AND expires_at <= :until
                    ORDER BY expires_at LIMIT :limit FOR UPDATE SKIP LOCKED)
                RETURNING {_BUCKET_COLUMNS}, tenant_id, account_id, unit
                """
            ),
            {"now": now, "until": until, "limit": limit},
        )
        return [((r.tenant_id, r.account_id, r.unit), _bucket(r)) for r in rows]
