"""The tenant's book (admin), rewards' part: accounts with credit expiring within N days,
soonest first, in cursor pages, and the same as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from tangible_rewards.adapters import book
from tangible_rewards.entrypoints.dependencies import ContainerDep
from tangible_runtime.app import AdminPrincipal
from tangible_runtime.content_disposition import content_disposition
from tangible_runtime.paging import CursorPage, CursorPagingDep, InvalidCursor

router = APIRouter(prefix="/v1/book", tags=["book"])
EXPORT_BATCH = 1000

WithinDays = Annotated[int, Query(ge=1, le=3650, description="Expiring within this many days from now.")]
Unit = Annotated[str | None, Query(pattern=r"^[a-z0-9_.-]{1,40}$", description="Only this credit unit.")]


class ExpiringCredit(BaseModel):
    account_id: str
    unit: str
    expiring: Decimal  # open credit that expires within the window
    first_expiry: datetime


def _entry(row: Any) -> ExpiringCredit:
    return ExpiringCredit(
        account_id=row.account_id, unit=row.unit, expiring=row.expiring, first_expiry=row.first_expiry
    )


def _key(entry: ExpiringCredit) -> tuple[Any, ...]:
    return (entry.first_expiry, entry.account_id, entry.unit)


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
    now = container.clock.now()
    query = book.expiring_query(principal.tenant_id, now, now + timedelta(days=within_days), unit)
    if paging.after is not None and len(paging.after) != 3:
        raise InvalidCursor("the cursor is not one this service returned")
    try:
        query = book.ordered(query, paging.after)
    except ValueError as error:
        raise InvalidCursor("the cursor is not one this service returned") from error
    async with container.session_factory() as session:
        rows = (await session.execute(query.limit(paging.limit + 1))).all()
    return CursorPage[ExpiringCredit].of([_entry(r) for r in rows], paging, _key)


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
    now = container.clock.now()
    query = book.expiring_query(principal.tenant_id, now, now + timedelta(days=within_days), unit)

    async def chunks() -> AsyncIterator[str]:
        yield _line([*ExpiringCredit.model_fields])
        last: tuple[Any, ...] | None = None
        while True:
            async with container.session_factory() as session:
                rows = (await session.execute(book.ordered(query, last).limit(EXPORT_BATCH))).all()
            for row in rows:
                entry = _entry(row)
                yield _line([entry.account_id, entry.unit, entry.expiring, entry.first_expiry.isoformat()])
            if len(rows) < EXPORT_BATCH:
                return
            last = _key(_entry(rows[-1]))

    return StreamingResponse(
        chunks(), media_type="text/csv", headers={"Content-Disposition": content_disposition("credits.csv")}
    )


def _line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()
