"""The credit ledger's pure rules: burn order, balanced transactions, no overspending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tangible_rewards.domain.errors import InsufficientCredits
from tangible_rewards.domain.ledger import (
    ZERO,
    Bucket,
    Entry,
    LedgerAccount,
    Transaction,
    TransactionBuilder,
    TransactionKind,
    UnbalancedTransaction,
    money,
    plan_burn,
)

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def bucket(
    name: str, amount: str, *, expires_in: int | None = None, age: int = 0, priority: int = 0
) -> Bucket:
    expires = NOW + timedelta(days=expires_in) if expires_in is not None else None
    return Bucket(name, Decimal(amount), expires, NOW - timedelta(days=age), priority)


def burned(buckets: list[Bucket], amount: str) -> list[tuple[str, str]]:
    return [(b.bucket.id, str(b.amount)) for b in plan_burn(buckets, Decimal(amount), NOW)]


def test_priority_first_then_earliest_expiry_then_oldest() -> None:
    buckets = [
        bucket("never", "10"),
        bucket("late", "10", expires_in=60),
        bucket("soon", "10", expires_in=5),
        bucket("soon-older", "10", expires_in=5, age=3),
        bucket("preferred", "10", expires_in=90, priority=-1),
    ]
    assert burned(buckets, "45") == [
        ("preferred", "10"),
        ("soon-older", "10"),
        ("soon", "10"),
        ("late", "10"),
        ("never", "5.00"),
    ]


def test_a_partial_burn_takes_only_what_is_needed() -> None:
    assert burned([bucket("a", "10", expires_in=1), bucket("b", "10", expires_in=2)], "12.5") == [
        ("a", "10"),
        ("b", "2.50"),
    ]


def test_expired_buckets_cannot_be_spent_before_breakage_is_booked() -> None:
    expired = Bucket("old", Decimal(50), NOW - timedelta(seconds=1), NOW - timedelta(days=30))
    with pytest.raises(InsufficientCredits) as refused:
        plan_burn([expired, bucket("ok", "5")], Decimal(10), NOW)
    assert refused.value.details == {"balance": "5.00", "requested": "10.00"}


def test_transactions_must_balance_and_carry_provenance() -> None:
    with pytest.raises(UnbalancedTransaction):
        Transaction(
            "t",
            "t1",
            "a1",
            "credits",
            TransactionKind.GRANT,
            {"type": "grant"},
            (Entry(LedgerAccount.ACCOUNT_BALANCE, Decimal(5), "b1"),),
        )
    with pytest.raises(UnbalancedTransaction):
        TransactionBuilder("t1", "a1", "credits").credit("t", TransactionKind.GRANT, "b1", Decimal(0))


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000), places=2)
bucket_specs = st.lists(
    st.tuples(amounts, st.one_of(st.none(), st.integers(-5, 60)), st.integers(0, 30), st.integers(-2, 2)),
    max_size=8,
)


@given(bucket_specs, amounts)
def test_any_burn_pays_exactly_in_burn_order_from_spendable_buckets_or_is_refused(
    specs: list[tuple[Decimal, int | None, int, int]], amount: Decimal
) -> None:
    buckets = [
        Bucket(
            f"b{i}", money(a), None if e is None else NOW + timedelta(days=e), NOW - timedelta(days=age), p
        )
        for i, (a, e, age, p) in enumerate(specs)
    ]
    spendable = [b for b in buckets if b.expires_at is None or b.expires_at > NOW]
    available = sum((b.remaining for b in spendable), ZERO)
    try:
        burns = plan_burn(buckets, amount, NOW)
    except InsufficientCredits:
        assert amount > available
        return
    assert sum((b.amount for b in burns), ZERO) == amount
    assert all(ZERO < b.amount <= b.bucket.remaining for b in burns)
    assert all(b.bucket in spendable for b in burns)
    # every bucket but the last is drained: nothing is taken out of order
    assert all(b.amount == b.bucket.remaining for b in burns[:-1])
    transaction = TransactionBuilder("t1", "a1", "credits").debit("x", TransactionKind.REDEMPTION, burns)
    assert transaction.balance_change == -amount
