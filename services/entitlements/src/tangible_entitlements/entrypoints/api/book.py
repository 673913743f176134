"""The tenant's book (admin): its licenses renewing between dates, by status, with idle
seats, at risk, upgrade candidates, over or near a limit, each with its evidence; cursor
pages, and the same as CSV. The queries are the service layer's (`service_layer.book`)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BeforeValidator

from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_entitlements.entrypoints.schemas.book import CSV_COLUMNS, BookEntry, csv_values
from tangible_entitlements.service_layer import book
from tangible_entitlements.service_layer.reads import BookFilter, BookSort
from tangible_runtime.app import AdminPrincipal
from tangible_runtime.content_disposition import content_disposition
from tangible_runtime.paging import CursorPage, CursorPagingDep, InvalidCursor, encode_cursor

router = APIRouter(tags=["book"])
EXPORT_BATCH = 1000


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_text(value: Any) -> Any:
    if isinstance(value, str) and not _DATE.match(value):  # pydantic reads "0" as a Unix time
        raise ValueError("a date, such as 2027-03-31")
    return value


DateText = Annotated[date, BeforeValidator(_date_text)]


async def _filters(
    renewing_from: DateText | None = Query(default=None, description="Term ends on or after (a date)."),
    renewing_to: DateText | None = Query(default=None, description="Term ends on or before (a date)."),
    status: str | None = Query(default=None, pattern=r"^[a-z_]{1,40}$", description="License status."),
    idle_seats_above: float | None = Query(
        default=None, ge=0, le=100, description="Only licenses with more than this % of seats unassigned."
    ),
    at_risk: bool | None = Query(
        default=None,
        description="true: only licenses with a renewal risk detected for their term; false: none.",
    ),
    upgrade_candidate: bool | None = Query(
        default=None, description="true: only licenses with an open upgrade suggestion; false: without."
    ),
    limit_used_above: float | None = Query(
        default=None,
        ge=0,
        le=10_000,
        description="Only licenses using more than this % of a limit in a current period (100: over one).",
    ),
) -> BookFilter:
    return BookFilter(
        renewing_from, renewing_to, status, idle_seats_above, at_risk, upgrade_candidate, limit_used_above
    )


FilterDep = Annotated[BookFilter, Depends(_filters)]
SortQuery = Annotated[
    BookSort,
    Query(
        description=(
            "Order: renewal date or account id (ascending); limit_used (fullest first), risk "
            "(largest decline first), upgrade (newest open suggestion first); those without last."
        )
    ),
]


@router.get(
    "/book",
    response_model=CursorPage[BookEntry],
    summary="The tenant's licenses with their evidence: renewals, idle seats, risk, upgrades, limits",
    responses={422: {"description": "A filter or the cursor is not valid"}},
)
async def read_book(
    principal: AdminPrincipal,
    container: ContainerDep,
    paging: CursorPagingDep,
    filters: FilterDep,
    sort: SortQuery = "term_end",
) -> CursorPage[BookEntry]:
    try:
        rows = await book.book_page(
            container.new_uow(),
            tenant_id=principal.tenant_id,
            filters=filters,
            sort=sort,
            now=container.clock.now(),
            after=paging.after,
            limit=paging.limit + 1,
        )
    except ValueError as error:
        raise InvalidCursor("the cursor is not one this service returned") from error
    items = rows[: paging.limit]
    more = len(rows) > paging.limit
    return CursorPage[BookEntry](
        items=[BookEntry.of(r) for r in items],
        limit=paging.limit,
        next_cursor=encode_cursor(items[-1].key) if more else None,
    )


@router.get(
    "/book/export",
    summary="The same book as CSV (evidence as JSON cells)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        422: {"description": "A filter is not valid"},
    },
)
async def export_book(
    principal: AdminPrincipal, container: ContainerDep, filters: FilterDep, sort: SortQuery = "term_end"
) -> StreamingResponse:
    batches = book.whole_book(
        container.new_uow,
        tenant_id=principal.tenant_id,
        filters=filters,
        sort=sort,
        now=container.clock.now(),
        batch=EXPORT_BATCH,
    )

    async def chunks() -> AsyncIterator[str]:
        yield _line(CSV_COLUMNS)
        async for rows in batches:
            yield "".join(_line(csv_values(BookEntry.of(row))) for row in rows)

    return StreamingResponse(
        chunks(), media_type="text/csv", headers={"Content-Disposition": content_disposition("book.csv")}
    )


def _line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()
