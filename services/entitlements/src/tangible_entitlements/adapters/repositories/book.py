"""The tenant's book: its licenses with their evidence, read set-based, filtered, sorted and
read in keyset pages. Never commits.

One statement per page: each license with its seats assigned, the usage of its limited
features in their current periods (`usage_counters`, with the limit in force when usage
last moved, as the upgrade signal weighs it), the renewal risk detected for its current
term and its open upgrade suggestions (`signal_marks`: the events as emitted, so the book
shows the same evidence the webhooks carried).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, Float, Integer, Text, and_, column, or_, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.service_layer.reads import BookFilter, BookRow, BookSort

# Open suggestions as `signals.open_suggestions` decides them for the account view: made for
# this license after its last plan change, add-on or trial conversion, for something it does
# not have yet (a pending plan counts as had); the latest per plan or add-on.
_BOOK = """
SELECT l.id, l.account_id, l.plan_key, l.status, l.term_start, l.term_end, l.seats,
       (SELECT count(*) FROM seat_assignments s
        WHERE s.tenant_id = l.tenant_id AND s.license_id = l.id)::int AS seats_assigned,
       lim.limits, lim.limit_used, risk.risk, up.suggestions,
       coalesce(lim.limit_used, -1) AS limit_key,
       coalesce((risk.risk ->> 'decline_percent')::float, -1) AS risk_key,
       coalesce(up.latest, -1) AS upgrade_key
FROM licenses l
LEFT JOIN LATERAL (
    SELECT jsonb_agg(jsonb_build_object(
               'feature_key', c.feature_key, 'usage', c.value, 'limit', c.limit_value,
               'used_percent', round(c.value * 100 / c.limit_value, 1),
               'period_start', c.period_start, 'period_end', c.period_end)
             ORDER BY c.value / c.limit_value DESC, c.feature_key) AS limits,
           max(c.value * 100 / c.limit_value)::float AS limit_used
    FROM usage_counters c
    WHERE c.tenant_id = l.tenant_id AND c.account_id = l.account_id AND c.limit_value > 0
      AND c.period_start <= :now AND (c.period_end IS NULL OR c.period_end > :now)
) lim ON true
LEFT JOIN LATERAL (
    SELECT m.payload || jsonb_build_object('detected_at', m.created_at) AS risk
    FROM signal_marks m
    WHERE m.tenant_id = l.tenant_id AND m.account_id = l.account_id AND m.signal = 'renewal_risk'
      AND m.payload IS NOT NULL AND starts_with(m.evidence_key, l.id || ':' || l.term_end::text || ':')
    ORDER BY m.created_at DESC, m.evidence_key DESC LIMIT 1
) risk ON true
LEFT JOIN LATERAL (
    SELECT jsonb_agg(o.payload || jsonb_build_object('suggested_at', o.created_at)
                     ORDER BY o.created_at DESC, o.kind, o.key) AS suggestions,
           extract(epoch FROM max(o.created_at))::float AS latest
    FROM (
        SELECT DISTINCT ON (m.payload ->> 'suggestion_kind', m.payload ->> 'suggestion_key')
               m.payload ->> 'suggestion_kind' AS kind, m.payload ->> 'suggestion_key' AS key,
               m.created_at, m.payload
        FROM signal_marks m
        WHERE m.tenant_id = l.tenant_id AND m.account_id = l.account_id AND m.signal = 'upgrade'
          AND m.payload IS NOT NULL AND coalesce(m.payload ->> 'license_id', l.id) = l.id
          AND NOT EXISTS (
              SELECT 1 FROM license_history h
              WHERE h.tenant_id = l.tenant_id AND h.account_id = l.account_id AND h.license_id = l.id
                AND (h.action LIKE 'plan\\_changed%' OR h.action IN ('addon_added', 'trial_converted'))
                AND h.at >= m.created_at)
          AND NOT (m.payload ->> 'suggestion_kind' = 'plan'
                   AND m.payload ->> 'suggestion_key' IN (l.plan_key, coalesce(l.pending_plan_key, '')))
          AND NOT (m.payload ->> 'suggestion_kind' = 'addon'
                   AND l.addons -> (m.payload ->> 'suggestion_key') IS NOT NULL)
        ORDER BY m.payload ->> 'suggestion_kind', m.payload ->> 'suggestion_key', m.created_at DESC
    ) o
) up ON true
WHERE l.tenant_id = :tenant AND (CAST(:ids AS text[]) IS NULL OR l.id = ANY(CAST(:ids AS text[])))
"""

_LICENSES = text(
    """
    SELECT l.id, l.account_id, l.status, l.term_end, l.seats,
           (SELECT count(*) FROM seat_assignments s
            WHERE s.tenant_id = l.tenant_id AND s.license_id = l.id)::int AS seats_assigned
    FROM licenses l WHERE l.tenant_id = :tenant
    """
).columns(
    column("id", Text),
    column("account_id", Text),
    column("status", Text),
    column("term_end", Date),
    column("seats", Integer),
    column("seats_assigned", Integer),
)

_COLUMNS = (
    column("id", Text),
    column("account_id", Text),
    column("plan_key", Text),
    column("status", Text),
    column("term_start", Date),
    column("term_end", Date),
    column("seats", Integer),
    column("seats_assigned", Integer),
    column("limits", JSONB),
    column("limit_used", Float),
    column("risk", JSONB),
    column("suggestions", JSONB),
    column("limit_key", Float),
    column("risk_key", Float),
    column("upgrade_key", Float),
)
# per order: the sort column and whether it runs high to low (the license id breaks ties)
_ORDER = {
    "term_end": ("term_end", False),
    "account_id": ("account_id", False),
    "limit_used": ("limit_key", True),
    "risk": ("risk_key", True),
    "upgrade": ("upgrade_key", True),
}


def _filters(book: Any, f: BookFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if f.renewing_from is not None:
        found.append(book.c.term_end >= f.renewing_from)
    if f.renewing_to is not None:
        found.append(book.c.term_end <= f.renewing_to)
    if f.status is not None:
        found.append(book.c.status == f.status)
    if f.idle_seats_above is not None:  # idle share = (seats - assigned) / seats; none without seats
        found.append(book.c.seats > 0)
        found.append((book.c.seats - book.c.seats_assigned) * 100.0 > f.idle_seats_above * book.c.seats)
    if f.at_risk is not None:
        found.append(book.c.risk.is_not(None) if f.at_risk else book.c.risk.is_(None))
    if f.upgrade_candidate is not None:
        has = book.c.suggestions.is_not(None)
        found.append(has if f.upgrade_candidate else ~has)
    if f.limit_used_above is not None:
        found.append(book.c.limit_used > f.limit_used_above)
    return found


def _after(book: Any, sort: BookSort, last: tuple[Any, ...]) -> ColumnElement[bool]:
    """Keyset: rows after (sort value, license id) of the previous page's last row."""
    if len(last) != 2:
        raise ValueError("a book cursor has two values")
    name, descending = _ORDER[sort]
    value: Any
    if sort == "term_end":
        value = date.fromisoformat(str(last[0]))
    elif sort == "account_id":
        value = str(last[0])
    elif isinstance(last[0], int | float) and not isinstance(last[0], bool):
        value = float(last[0])
    else:
        raise ValueError("not a number")
    key = book.c[name]
    beyond = key < value if descending else key > value
    return or_(beyond, and_(key == value, book.c.id > str(last[1])))


def _row(row: Any, sort: BookSort) -> BookRow:
    name, _ = _ORDER[sort]
    return BookRow(
        license_id=row.id,
        account_id=row.account_id,
        plan_key=row.plan_key,
        status=row.status,
        term_start=row.term_start,
        term_end=row.term_end,
        seats=row.seats,
        seats_assigned=row.seats_assigned,
        limit_used_percent=round(row.limit_used, 1) if row.limit_used is not None else None,
        limits=list(row.limits or []),
        risk=dict(row.risk) if row.risk is not None else None,
        upgrade_suggestions=list(row.suggestions or []),
        key=(getattr(row, name), row.id),
    )


def _plain(filters: BookFilter, sort: BookSort) -> bool:
    """Neither the order nor a filter needs the evidence."""
    signals = (filters.at_risk, filters.upgrade_candidate, filters.limit_used_above)
    return sort in ("term_end", "account_id") and all(f is None for f in signals)


def _book(tenant_id: str, now: datetime, ids: list[str] | None) -> Any:
    """The book's rows; with `ids`, only those licenses' (the evidence computed for them)."""
    return text(_BOOK).bindparams(tenant=tenant_id, now=now, ids=ids).columns(*_COLUMNS).subquery("book")


class BookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def page(
        self,
        tenant_id: str,
        filters: BookFilter,
        sort: BookSort,
        *,
        now: datetime,
        after: tuple[Any, ...] | None,
        limit: int,
    ) -> list[BookRow]:
        ids = None
        if _plain(filters, sort):  # cut the page on the licenses first: evidence for it only
            plain = _LICENSES.bindparams(tenant=tenant_id).subquery("plain")
            query = select(plain.c.id).where(*_filters(plain, filters))
            if after is not None:
                query = query.where(_after(plain, sort, after))
            order = plain.c[_ORDER[sort][0]]
            ids = list(
                (await self._session.execute(query.order_by(order, plain.c.id).limit(limit))).scalars()
            )
        book = _book(tenant_id, now, ids)
        conditions = _filters(book, filters)
        if after is not None:
            conditions.append(_after(book, sort, after))
        name, descending = _ORDER[sort]
        order = book.c[name].desc() if descending else book.c[name]
        query = select(book).where(*conditions).order_by(order, book.c.id).limit(limit)
        rows = await self._session.execute(query)
        return [_row(r, sort) for r in rows]
