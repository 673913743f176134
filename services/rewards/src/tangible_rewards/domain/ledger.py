"""The credit ledger: balanced transactions over expiry buckets, and the burn order. Pure Python.

Ledger accounts: `account_balance` (the customer's credits, one entry per bucket touched)
and the tenant-side counterparts `rewards_issued`, `redemptions`, `breakage` and
`adjustments`. Amounts are signed: a transaction's entries always sum to zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from tangible_rewards.domain.errors import InsufficientCredits

BalanceKey = tuple[str, str, str]  # tenant, account, unit

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN)


class LedgerAccount(StrEnum):
    ACCOUNT_BALANCE = "account_balance"
    REWARDS_ISSUED = "rewards_issued"
    REDEMPTIONS = "redemptions"
    BREAKAGE = "breakage"
    ADJUSTMENTS = "adjustments"


class TransactionKind(StrEnum):
    GRANT = "grant"
    REDEMPTION = "redemption"
    EXPIRY = "expiry"
    ADJUSTMENT = "adjustment"
    VOID = "void"


class UnbalancedTransaction(AssertionError):
    """A bug, never a user error: the ledger refuses it (and so does the database)."""


@dataclass(frozen=True)
class Entry:
    ledger_account: LedgerAccount
    amount: Decimal
    bucket_id: str | None = None


@dataclass(frozen=True)
class Transaction:
    id: str
    tenant_id: str
    account_id: str
    unit: str
    kind: TransactionKind
    provenance: dict[str, Any]
    entries: tuple[Entry, ...]

    def __post_init__(self) -> None:
        if not self.entries or sum((e.amount for e in self.entries), ZERO) != ZERO:
            raise UnbalancedTransaction(f"transaction {self.id} does not sum to zero")
        for entry in self.entries:
            if entry.amount == ZERO or entry.amount != money(entry.amount):
                raise UnbalancedTransaction(f"transaction {self.id} has a zero or sub-cent entry")
            if (entry.ledger_account is LedgerAccount.ACCOUNT_BALANCE) != (entry.bucket_id is not None):
                raise UnbalancedTransaction("account_balance entries (and only they) name a bucket")
        if "type" not in self.provenance:
            raise UnbalancedTransaction("every transaction carries its provenance")

    @property
    def balance_change(self) -> Decimal:
        return sum(
            (e.amount for e in self.entries if e.ledger_account is LedgerAccount.ACCOUNT_BALANCE), ZERO
        )


@dataclass(frozen=True)
class Bucket:
    """Credits of one grant (or positive adjustment) with their own expiry and priority."""

    id: str
    remaining: Decimal
    expires_at: datetime | None
    created_at: datetime
    priority: int = 0
    reward_id: str | None = None


@dataclass(frozen=True)
class NewBucket:
    """A bucket opened by a grant or a positive adjustment (filled by its transaction's entry)."""

    id: str
    tenant_id: str
    account_id: str
    unit: str
    transaction_id: str
    granted: Decimal
    created_at: datetime
    expires_at: datetime | None = None
    priority: int = 0
    reward_id: str | None = None


def burn_order(bucket: Bucket) -> tuple[Any, ...]:
    """Priority first (lower spends first), then earliest expiry (never-expiring last), then oldest."""
    return (
        bucket.priority,
        bucket.expires_at is None,
        bucket.expires_at or bucket.created_at,
        bucket.created_at,
        bucket.id,
    )


@dataclass(frozen=True)
class Burn:
    bucket: Bucket
    amount: Decimal


def spendable(buckets: Iterable[Bucket], now: datetime) -> list[Bucket]:
    """Buckets with credit left that have not expired (expired ones wait for breakage)."""
    return [b for b in buckets if b.remaining > ZERO and (b.expires_at is None or b.expires_at > now)]


def plan_burn(buckets: Sequence[Bucket], amount: Decimal, now: datetime) -> list[Burn]:
    """Which buckets pay for `amount`; InsufficientCredits if they cannot."""
    amount = money(amount)
    usable = sorted(spendable(buckets, now), key=burn_order)
    available = sum((b.remaining for b in usable), ZERO)
    if amount > available:
        raise InsufficientCredits(
            f"the balance ({available}) does not cover {amount}",
            balance=str(available),
            requested=str(amount),
        )
    burns: list[Burn] = []
    left = amount
    for bucket in usable:
        if left == ZERO:
            break
        take = min(left, bucket.remaining)
        burns.append(Burn(bucket, take))
        left -= take
    return burns


@dataclass
class TransactionBuilder:
    """Shapes the five kinds of transactions; each one balanced by construction."""

    tenant_id: str
    account_id: str
    unit: str
    provenance: dict[str, Any] = field(default_factory=dict)

    def _txn(self, txn_id: str, kind: TransactionKind, entries: list[Entry]) -> Transaction:
        return Transaction(
            txn_id,
            self.tenant_id,
            self.account_id,
            self.unit,
            kind,
            {"type": kind.value, **self.provenance},
            tuple(entries),
        )

    def credit(self, txn_id: str, kind: TransactionKind, bucket_id: str, amount: Decimal) -> Transaction:
        """grant (from rewards_issued) or positive adjustment (from adjustments)."""
        source = LedgerAccount.REWARDS_ISSUED if kind is TransactionKind.GRANT else LedgerAccount.ADJUSTMENTS
        amount = money(amount)
        return self._txn(
            txn_id, kind, [Entry(LedgerAccount.ACCOUNT_BALANCE, amount, bucket_id), Entry(source, -amount)]
        )

    def debit(self, txn_id: str, kind: TransactionKind, burns: Sequence[Burn]) -> Transaction:
        """redemption, expiry, void or negative adjustment: out of buckets into a sink."""
        sink = {
            TransactionKind.REDEMPTION: LedgerAccount.REDEMPTIONS,
            TransactionKind.EXPIRY: LedgerAccount.BREAKAGE,
            TransactionKind.VOID: LedgerAccount.REWARDS_ISSUED,
            TransactionKind.ADJUSTMENT: LedgerAccount.ADJUSTMENTS,
        }[kind]
        total = sum((b.amount for b in burns), ZERO)
        entries = [Entry(LedgerAccount.ACCOUNT_BALANCE, -b.amount, b.bucket.id) for b in burns]
        return self._txn(txn_id, kind, [*entries, Entry(sink, total)])
