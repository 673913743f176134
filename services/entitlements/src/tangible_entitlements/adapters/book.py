"""The tenant's book: its licenses read set-based, filtered and sorted, for the book routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.adapters.tables import licenses, seat_assignments

Sort = Literal["term_end", "account_id"]


@dataclass(frozen=True)
class BookFilter:
    renewing_from: date | None = None
    renewing_to: date | None = None  # inclusive
    status: str | None = None
    idle_seats_above: float | None = None  # percent of the license's seats unassigned


def _assigned() -> Any:
    return (
        select(func.count())
        .where(
            seat_assignments.c.tenant_id == licenses.c.tenant_id,
            seat_assignments.c.license_id == licenses.c.id,
        )
        .scalar_subquery()
    )


def book_query(tenant_id: str, filters: BookFilter, sort: Sort) -> Select[Any]:
    assigned = _assigned().label("seats_assigned")
    query = select(
        licenses.c.id,
        licenses.c.account_id,
        licenses.c.plan_key,
        licenses.c.status,
        licenses.c.term_start,
        licenses.c.term_end,
        licenses.c.seats,
        assigned,
    ).where(licenses.c.tenant_id == tenant_id)
    if filters.renewing_from is not None:
        query = query.where(licenses.c.term_end >= filters.renewing_from)
    if filters.renewing_to is not None:
        query = query.where(licenses.c.term_end <= filters.renewing_to)
    if filters.status is not None:
        query = query.where(licenses.c.status == filters.status)
    if filters.idle_seats_above is not None:
        # idle share = (seats - assigned) / seats; licenses without seats have none idle
        query = query.where(
            licenses.c.seats > 0,
            (licenses.c.seats - _assigned()) * 100.0 > filters.idle_seats_above * licenses.c.seats,
        )
    key = licenses.c.term_end if sort == "term_end" else licenses.c.account_id
    return query.order_by(key, licenses.c.id)


def after(query: Select[Any], sort: Sort, last: tuple[Any, ...]) -> Select[Any]:
    """Keyset: rows after (sort value, license id) of the previous page's last row."""
    column = licenses.c.term_end if sort == "term_end" else licenses.c.account_id
    value = date.fromisoformat(str(last[0])) if sort == "term_end" else str(last[0])
    return query.where(or_(column > value, and_(column == value, licenses.c.id > str(last[1]))))


async def read(session: AsyncSession, query: Select[Any], limit: int) -> list[Any]:
    return list((await session.execute(query.limit(limit))).all())
