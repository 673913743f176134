"""The tenant's book (admin): its licenses renewing between dates, by status, with idle
seats above a share; cursor pages, and the same as CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, BeforeValidator

from tangible_entitlements.adapters import book
from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_runtime.app import AdminPrincipal
from tangible_runtime.content_disposition import content_disposition
from tangible_runtime.paging import CursorPage, CursorPagingDep, InvalidCursor

router = APIRouter(tags=["book"])
EXPORT_BATCH = 1000


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_text(value: Any) -> Any:
    if isinstance(value, str) and not _DATE.match(value):  # pydantic reads "0" as a Unix time
        raise ValueError("a date, such as 2027-03-31")
    return value


DateText = Annotated[date, BeforeValidator(_date_text)]


class BookEntry(BaseModel):
    license_id: str
    account_id: str
    plan_key: str
    status: str
    term_start: date
    term_end: date  # the renewal date
    seats: int
    seats_assigned: int
    idle_seats_percent: float | None  # null for a license without seats


async def _filters(
    renewing_from: DateText | None = Query(default=None, description="Term ends on or after (a date)."),
    renewing_to: DateText | None = Query(default=None, description="Term ends on or before (a date)."),
    status: str | None = Query(default=None, pattern=r"^[a-z_]{1,40}$", description="License status."),
    idle_seats_above: float | None = Query(
        default=None, ge=0, le=100, description="Only licenses with more than this % of seats unassigned."
    ),
) -> book.BookFilter:
    return book.BookFilter(renewing_from, renewing_to, status, idle_seats_above)


FilterDep = Annotated[book.BookFilter, Depends(_filters)]
SortQuery = Annotated[book.Sort, Query(description="Order: renewal date or account id.")]


def _entry(row: Any) -> BookEntry:
    idle = round(100.0 * (row.seats - row.seats_assigned) / row.seats, 1) if row.seats > 0 else None
    return BookEntry(
        license_id=row.id,
        account_id=row.account_id,
        plan_key=row.plan_key,
        status=row.status,
        term_start=row.term_start,
        term_end=row.term_end,
        seats=row.seats,
        seats_assigned=row.seats_assigned,
        idle_seats_percent=idle,
    )


def _key(sort: book.Sort) -> Any:
    def key(entry: BookEntry) -> tuple[Any, ...]:
        return (entry.term_end if sort == "term_end" else entry.account_id, entry.license_id)

    return key


@router.get(
    "/book",
    response_model=CursorPage[BookEntry],
    summary="The tenant's licenses: renewing between dates, by status, with idle seats",
    responses={422: {"description": "A filter or the cursor is not valid"}},
)
async def read_book(
    principal: AdminPrincipal,
    container: ContainerDep,
    paging: CursorPagingDep,
    filters: FilterDep,
    sort: SortQuery = "term_end",
) -> CursorPage[BookEntry]:
    query = book.book_query(principal.tenant_id, filters, sort)
    if paging.after is not None:
        if len(paging.after) != 2:
            raise InvalidCursor("the cursor is not one this service returned")
        try:
            query = book.after(query, sort, paging.after)
        except ValueError as error:
            raise InvalidCursor("the cursor is not one this service returned") from error
    async with container.session_factory() as session:
        rows = await book.read(session, query, paging.limit + 1)
    return CursorPage[BookEntry].of([_entry(r) for r in rows], paging, _key(sort))


@router.get(
    "/book/export",
    summary="The same book as CSV",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        422: {"description": "A filter is not valid"},
    },
)
async def export_book(
    principal: AdminPrincipal, container: ContainerDep, filters: FilterDep, sort: SortQuery = "term_end"
) -> StreamingResponse:
    async def chunks() -> AsyncIterator[str]:
        yield _line([*BookEntry.model_fields])
        last: tuple[Any, ...] | None = None
        while True:
            query = book.book_query(principal.tenant_id, filters, sort)
            if last is not None:
                query = book.after(query, sort, last)
            async with container.session_factory() as session:
                rows = await book.read(session, query, EXPORT_BATCH)
            for row in rows:
                yield _line(["" if v is None else v for v in _entry(row).model_dump().values()])
            if len(rows) < EXPORT_BATCH:
                return
            last = _key(sort)(_entry(rows[-1]))

    return StreamingResponse(
        chunks(), media_type="text/csv", headers={"Content-Disposition": content_disposition("book.csv")}
    )


def _line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()
