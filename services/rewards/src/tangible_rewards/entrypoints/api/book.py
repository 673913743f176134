"""The tenant's book (admin), rewards' part: accounts with credit expiring within N days,
soonest first, in cursor pages, and the same as CSV. The queries are the service layer's
(`service_layer.book`)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from tangible_rewards.entrypoints.dependencies import ContainerDep
from tangible_rewards.entrypoints.schemas.book import CSV_COLUMNS, ExpiringCredit, csv_values
from tangible_rewards.service_layer import book
from tangible_runtime.app import AdminPrincipal
from tangible_runtime.content_disposition import content_disposition
from tangible_runtime.paging import CursorPage, CursorPagingDep, InvalidCursor, encode_cursor

router = APIRouter(prefix="/v1/book", tags=["book"])
EXPORT_BATCH = 1000

WithinDays = Annotated[int, Query(ge=1, le=3650, description="Expiring within this many days from now.")]
Unit = Annotated[str | None, Query(pattern=r"^[a-z0-9_.-]{1,40}$", description="Only this credit unit.")]


@router.get(
    "/credits-expiring",
    response_model=CursorPage[ExpiringCredit],
    summary="Accounts whose open credit expires within N days, soonest first",
    responses={422: {"description": "A filter or the cursor is not valid"}},
)
async def credits_expiring(
    principal: AdminPrincipal,
    container: ContainerDep,
    paging: CursorPagingDep,
    within_days: WithinDays = 30,
    unit: Unit = None,
) -> CursorPage[ExpiringCredit]:
    try:
        entries = await book.book_page(
            container.new_uow(),
            tenant_id=principal.tenant_id,
            now=container.clock.now(),
            within=timedelta(days=within_days),
            unit=unit,
            after=paging.after,
            limit=paging.limit + 1,
        )
    except ValueError as error:
        raise InvalidCursor("the cursor is not one this service returned") from error
    items = entries[: paging.limit]
    more = len(entries) > paging.limit
    return CursorPage[ExpiringCredit](
        items=[ExpiringCredit.of(e) for e in items],
        limit=paging.limit,
        next_cursor=encode_cursor(items[-1].key) if more else None,
    )


@router.get(
    "/credits-expiring/export",
    summary="The same as CSV",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        422: {"description": "A filter is not valid"},
    },
)
async def export_credits_expiring(
    principal: AdminPrincipal, container: ContainerDep, within_days: WithinDays = 30, unit: Unit = None
) -> StreamingResponse:
    batches = book.whole_book(
        container.new_uow,
        tenant_id=principal.tenant_id,
        now=container.clock.now(),
        within=timedelta(days=within_days),
        unit=unit,
        batch=EXPORT_BATCH,
    )

    async def chunks() -> AsyncIterator[str]:
        yield _line(CSV_COLUMNS)
        async for entries in batches:
            yield "".join(_line(csv_values(ExpiringCredit.of(e))) for e in entries)

    return StreamingResponse(
        chunks(), media_type="text/csv", headers={"Content-Disposition": content_disposition("credits.csv")}
    )


def _line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()
