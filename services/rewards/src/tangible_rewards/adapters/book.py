"""The tenant's book, rewards' part: accounts whose open credit expires within a window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select

from tangible_rewards.adapters.tables import credit_buckets


def expiring_query(tenant_id: str, now: datetime, until: datetime, unit: str | None) -> Select[Any]:
    """Per account and unit: credit still open that expires in [now, until), and when first."""
    first = func.min(credit_buckets.c.expires_at).label("first_expiry")
    query = (
        select(
            credit_buckets.c.account_id,
            credit_buckets.c.unit,
            func.sum(credit_buckets.c.remaining).label("expiring"),
            first,
        )
        .where(
            credit_buckets.c.tenant_id == tenant_id,
            credit_buckets.c.status == "open",
            credit_buckets.c.remaining > 0,
            credit_buckets.c.expires_at >= now,
            credit_buckets.c.expires_at < until,
        )
        .group_by(credit_buckets.c.account_id, credit_buckets.c.unit)
    )
    if unit is not None:
        query = query.where(credit_buckets.c.unit == unit)
    return query


def ordered(query: Select[Any], last: tuple[Any, ...] | None) -> Select[Any]:
    """Soonest expiry first, then account and unit; keyset after the previous page's last."""
    inner = query.subquery()
    outer = select(inner)
    if last is not None:
        at, account, unit = datetime.fromisoformat(str(last[0])), str(last[1]), str(last[2])
        outer = outer.where(
            or_(
                inner.c.first_expiry > at,
                and_(inner.c.first_expiry == at, inner.c.account_id > account),
                and_(inner.c.first_expiry == at, inner.c.account_id == account, inner.c.unit > unit),
            )
        )
    return outer.order_by(inner.c.first_expiry, inner.c.account_id, inner.c.unit)
