"""The credit ledger in memory, with the database's rules: what its triggers and CHECKs do, this does."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tangible_rewards.domain.ledger import ZERO, BalanceKey, Bucket, NewBucket, Transaction
from tangible_rewards.service_layer.reads import ExpiringCredit, ExpiryBucket, HistoryEntry


class Violation(Exception):
    """What PostgreSQL would raise (a unique key, a CHECK, a trigger): the transaction fails."""


@dataclass
class BucketRow:
    new: NewBucket
    remaining: Decimal = ZERO
    status: str = "open"
    announced_at: datetime | None = None

    @property
    def key(self) -> BalanceKey:
        return (self.new.tenant_id, self.new.account_id, self.new.unit)

    def bucket(self) -> Bucket:
        b = self.new
        return Bucket(b.id, self.remaining, b.expires_at, b.created_at, b.priority, b.reward_id)


@dataclass(frozen=True)
class EntryRow:
    id: int
    transaction: Transaction
    ledger_account: str
    bucket_id: str | None
    amount: Decimal
    created_at: datetime


@dataclass
class LedgerTables:
    transactions: dict[str, Transaction] = field(default_factory=dict)
    buckets: dict[str, BucketRow] = field(default_factory=dict)
    entries: list[EntryRow] = field(default_factory=list)
    balances: dict[BalanceKey, Decimal] = field(default_factory=dict)


class FakeLedgerRepository:
    def __init__(self, tables: LedgerTables) -> None:
        self._t = tables

    async def post(
        self, transactions: Sequence[Transaction], buckets: Sequence[NewBucket], at: datetime
    ) -> None:
        if not transactions:
            return
        for transaction in transactions:
            if transaction.id in self._t.transactions:
                raise Violation(f"duplicate transaction id {transaction.id}")
            self._t.transactions[transaction.id] = transaction
        for new in buckets:
            if new.granted <= ZERO or new.id in self._t.buckets:
                raise Violation(f"bucket {new.id}")
            self._t.buckets[new.id] = BucketRow(new)
        for transaction in sorted(transactions, key=lambda t: (t.tenant_id, t.account_id, t.unit, t.id)):
            for entry in transaction.entries:
                row = EntryRow(
                    len(self._t.entries) + 1,
                    transaction,
                    entry.ledger_account.value,
                    entry.bucket_id,
                    entry.amount,
                    at,
                )
                self._t.entries.append(row)
                self._apply(row)

    def _apply(self, entry: EntryRow) -> None:
        """ledger_apply_entry(): buckets and balances move only with entries, never below zero."""
        if entry.bucket_id is None:
            return
        t = entry.transaction
        key = (t.tenant_id, t.account_id, t.unit)
        bucket = self._t.buckets.get(entry.bucket_id)
        if bucket is None or bucket.key != key:
            raise Violation(f"entry names bucket {entry.bucket_id} of another account")
        bucket.remaining += entry.amount
        if not ZERO <= bucket.remaining <= bucket.new.granted:
            raise Violation("bucket_never_negative")
        if entry.amount < ZERO and key not in self._t.balances:
            raise Violation("no balance to debit")
        self._t.balances[key] = self._t.balances.get(key, ZERO) + entry.amount
        if self._t.balances[key] < ZERO:
            raise Violation("balance_never_negative")

    async def lock_balance(self, key: BalanceKey) -> Decimal | None:
        return self._t.balances.get(key)

    async def lock_balances_skip_locked(self, keys: Iterable[BalanceKey]) -> list[BalanceKey]:
        return [k for k in sorted(set(keys)) if k in self._t.balances]

    async def balances(self, keys: Iterable[BalanceKey]) -> dict[BalanceKey, Decimal]:
        return {k: self._t.balances.get(k, ZERO) for k in sorted(set(keys))}

    async def open_buckets(self, key: BalanceKey) -> list[Bucket]:
        return [b.bucket() for b in self._open(key) if b.remaining > ZERO]

    async def bucket_of_reward(self, reward_id: str) -> tuple[Bucket, str, str] | None:
        found = [b for b in self._t.buckets.values() if b.new.reward_id == reward_id]
        return (found[0].bucket(), found[0].new.unit, found[0].status) if found else None

    async def set_status(self, bucket_ids: Sequence[str], status: str) -> None:
        for bucket_id in bucket_ids:
            self._t.buckets[bucket_id].status = status

    async def accounts_with_expired_credit(self, now: datetime, limit: int) -> list[BalanceKey]:
        return list(dict.fromkeys(b.key for b in self._expired(now)))[:limit]

    async def expired_buckets(
        self, keys: Sequence[BalanceKey], now: datetime
    ) -> dict[BalanceKey, list[Bucket]]:
        result: dict[BalanceKey, list[Bucket]] = {k: [] for k in keys}
        for b in self._expired(now):
            if b.key in result:
                result[b.key].append(b.bucket())
        return result

    async def announce_expiring(
        self, now: datetime, until: datetime, limit: int
    ) -> list[tuple[BalanceKey, Bucket]]:
        due = [
            b
            for b in self._open()
            if b.remaining > ZERO and b.announced_at is None and b.new.expires_at is not None
            if now < b.new.expires_at <= until
        ]
        due = sorted(due, key=lambda b: b.new.expires_at or now)[:limit]
        for b in due:
            b.announced_at = now
        return [(b.key, b.bucket()) for b in due]

    def _open(self, key: BalanceKey | None = None) -> list[BucketRow]:
        return [b for b in self._t.buckets.values() if b.status == "open" and key in (None, b.key)]

    def _expired(self, now: datetime) -> list[BucketRow]:
        return [b for b in self._open() if b.new.expires_at is not None and b.new.expires_at <= now]


class FakeLedgerReads:
    def __init__(self, tables: LedgerTables) -> None:
        self._t = tables

    async def spendable(
        self, tenant_id: str, account_id: str, unit: str, now: datetime
    ) -> list[ExpiryBucket]:
        by_expiry: dict[datetime | None, Decimal] = {}
        for b in self._t.buckets.values():
            expires = b.new.expires_at
            if b.key == (tenant_id, account_id, unit) and b.status == "open" and b.remaining > ZERO:
                if expires is None or expires > now:
                    by_expiry[expires] = by_expiry.get(expires, ZERO) + b.remaining
        soonest_first = sorted(by_expiry, key=lambda e: (e is None, e or now))
        return [ExpiryBucket(by_expiry[e], e) for e in soonest_first]

    async def history(
        self, tenant_id: str, account_id: str, unit: str, *, limit: int, offset: int
    ) -> tuple[list[HistoryEntry], int]:
        mine = [
            e
            for e in reversed(self._t.entries)
            if e.bucket_id is not None
            and (e.transaction.tenant_id, e.transaction.account_id, e.transaction.unit)
            == (tenant_id, account_id, unit)
        ]
        return [self._entry(e) for e in mine[offset : offset + limit]], len(mine)

    def _entry(self, e: EntryRow) -> HistoryEntry:
        assert e.bucket_id is not None
        t = e.transaction
        return HistoryEntry(
            e.id,
            t.id,
            t.kind.value,
            e.amount,
            e.bucket_id,
            self._t.buckets[e.bucket_id].new.expires_at,
            as_json(t.provenance),
            e.created_at,
        )


class FakeCreditBook:
    """The tenant's book, rewards' part: open credit expiring in [now, until) per account and
    unit, ordered and cut after a key as the SQL's keyset is (the database collates as C)."""

    def __init__(self, tables: LedgerTables) -> None:
        self._t = tables

    async def page(
        self,
        tenant_id: str,
        *,
        now: datetime,
        until: datetime,
        unit: str | None,
        after: tuple[Any, ...] | None,
        limit: int,
    ) -> list[ExpiringCredit]:
        groups: dict[tuple[str, str], list[BucketRow]] = {}
        for b in self._t.buckets.values():
            expires = b.new.expires_at
            if b.new.tenant_id != tenant_id or b.status != "open" or b.remaining <= ZERO:
                continue
            if expires is None or not now <= expires < until or unit not in (None, b.new.unit):
                continue
            groups.setdefault((b.new.account_id, b.new.unit), []).append(b)
        entries = [
            ExpiringCredit(
                account,
                credit_unit,
                sum((b.remaining for b in rows), ZERO),
                min(b.new.expires_at for b in rows if b.new.expires_at is not None),
            )
            for (account, credit_unit), rows in groups.items()
        ]
        entries.sort(key=lambda e: (e.first_expiry, e.account_id, e.unit))
        if after is not None:
            last = _book_key(after)
            entries = [e for e in entries if (e.first_expiry, e.account_id, e.unit) > last]
        return entries[:limit]


def _book_key(after: tuple[Any, ...]) -> tuple[datetime, str, str]:
    """A key as the SQL reads it: ValueError unless three values, the first an ISO instant (a
    naive one in local time, as asyncpg sends it)."""
    if len(after) != 3:
        raise ValueError("a credits-expiring key has three values")
    return datetime.fromisoformat(str(after[0])).astimezone(UTC), str(after[1]), str(after[2])


def as_json(value: dict[str, Any]) -> dict[str, Any]:
    """What a jsonb column gives back: datetimes and decimals as strings, and each object's
    keys in jsonb's order (shorter keys first, then bytewise), not the order written."""
    loaded: dict[str, Any] = _jsonb_order(json.loads(json.dumps(value, default=str)))
    return loaded


def _jsonb_order(value: Any) -> Any:
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return {k: _jsonb_order(value[k]) for k in keys}
    if isinstance(value, list):
        return [_jsonb_order(v) for v in value]
    return value
