"""The tenant's book, rewards' part: accounts whose open credit expires within a window,
per account and unit, soonest first, read in keyset pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_rewards.adapters.tables import credit_buckets
from tangible_rewards.service_layer.reads import ExpiringCredit


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
    """Soonest expiry first, then account and unit; keyset after the previous page's last
    (its expiry a datetime or ISO text, as a decoded cursor has it); ValueError for a key
    that is not one of this order's."""
    inner = query.subquery()
    outer = select(inner)
    if last is not None:
        if len(last) != 3:
            raise ValueError("a credits-expiring key has three values")
        at, account, unit = datetime.fromisoformat(str(last[0])), str(last[1]), str(last[2])
        outer = outer.where(
            or_(
                inner.c.first_expiry > at,
                and_(inner.c.first_expiry == at, inner.c.account_id > account),
                and_(inner.c.first_expiry == at, inner.c.account_id == account, inner.c.unit > unit),
            )
        )
    return outer.order_by(inner.c.first_expiry, inner.c.account_id, inner.c.unit)


class CreditBook:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

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
        query = ordered(expiring_query(tenant_id, now, until, unit), after).limit(limit)
        rows = await self._session.execute(query)
        return [ExpiringCredit(r.account_id, r.unit, r.expiring, r.first_expiry) for r in rows]
