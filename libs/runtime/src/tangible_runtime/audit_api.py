"""`GET /v1/audit` (cursor pages, filters) and `GET /v1/audit/export` (CSV or NDJSON): the
tenant's audit log, the same two routes in every service (see `tangible_runtime.audit`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import MetaData, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_runtime.app import AdminPrincipal, RuntimeDep
from tangible_runtime.content_disposition import content_disposition
from tangible_runtime.paging import CursorPage, CursorPaging, CursorPagingDep
from tangible_runtime.rfc3339 import Rfc3339
from tangible_runtime.tables import audit_table

audit_log = audit_table(MetaData())
EXPORT_BATCH = 1000
_NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot compare text holding NUL
COLUMNS = ("id", "at", "actor_id", "actor_name", "method", "route", "table", "operation", "before", "after")


class AuditEntryRead(BaseModel):
    id: int
    at: datetime
    actor_id: str
    actor_name: str | None
    method: str
    route: str
    table: str | None  # null for an action that is not a row change (see `operation`)
    operation: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class AuditFilter:
    table: str | None
    actor: str | None
    route: str | None
    at_from: datetime | None
    at_to: datetime | None


async def _filters(
    table: str | None = Query(default=None, pattern=_NO_NUL, max_length=200, description="Changed table."),
    actor: str | None = Query(
        default=None, pattern=_NO_NUL, max_length=200, description="Credential id or name of the actor."
    ),
    route: str | None = Query(
        default=None, pattern=_NO_NUL, max_length=500, description="Route template, e.g. `/v1/plans`."
    ),
    from_: Rfc3339 | None = Query(default=None, alias="from", description="At or after (RFC 3339)."),
    to: Rfc3339 | None = Query(default=None, description="Before (RFC 3339)."),
) -> AuditFilter:
    return AuditFilter(table, actor, route, from_, to)


FilterDep = Annotated[AuditFilter, Depends(_filters)]


def _query(tenant_id: str, filters: AuditFilter) -> Select[Any]:
    query = select(audit_log).where(audit_log.c.tenant_id == tenant_id)
    if filters.table is not None:
        query = query.where(audit_log.c.table_name == filters.table)
    if filters.actor is not None:
        actor = filters.actor
        query = query.where(or_(audit_log.c.actor_id == actor, audit_log.c.actor_name == actor))
    if filters.route is not None:
        query = query.where(audit_log.c.route == filters.route)
    if filters.at_from is not None:
        query = query.where(audit_log.c.at >= filters.at_from)
    if filters.at_to is not None:
        query = query.where(audit_log.c.at < filters.at_to)
    return query


def _entry(row: Any) -> AuditEntryRead:
    return AuditEntryRead(
        id=row.id,
        at=row.at,
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        method=row.method,
        route=row.route,
        table=row.table_name,
        operation=row.operation,
        before=row.before,
        after=row.after,
    )


async def read_page(
    session: AsyncSession, tenant_id: str, filters: AuditFilter, paging: CursorPaging
) -> CursorPage[AuditEntryRead]:
    """Newest first; the cursor is the last id read."""
    query = _query(tenant_id, filters)
    if paging.after is not None:
        last = paging.after[0]
        query = query.where(audit_log.c.id < (last if isinstance(last, int) else 0))
    rows = (await session.execute(query.order_by(audit_log.c.id.desc()).limit(paging.limit + 1))).all()
    return CursorPage[AuditEntryRead].of([_entry(r) for r in rows], paging, lambda e: (e.id,))


async def export_rows(
    session: AsyncSession, tenant_id: str, filters: AuditFilter, fmt: Literal["csv", "ndjson"]
) -> AsyncIterator[str]:
    """Oldest first, in batches (keyset on the id), one transaction per batch."""
    last = 0
    if fmt == "csv":
        yield _csv_line(COLUMNS)
    while True:
        query = _query(tenant_id, filters).where(audit_log.c.id > last).order_by(audit_log.c.id)
        async with session.begin():
            rows = (await session.execute(query.limit(EXPORT_BATCH))).all()
        for row in rows:
            entry = _entry(row).model_dump(mode="json")
            if fmt == "ndjson":
                yield json.dumps(entry, separators=(",", ":")) + "\n"
            else:
                yield _csv_line([_cell(value) for value in entry.values()])
        if len(rows) < EXPORT_BATCH:
            return
        last = rows[-1].id


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict) else ("" if value is None else value)


def _csv_line(values: Any) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def audit_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["audit"])

    @router.get(
        "/audit",
        response_model=CursorPage[AuditEntryRead],
        summary="Changes made through admin routes: who, when, which route, before and after",
        responses={422: {"description": "A filter or the cursor is not valid"}},
    )
    async def list_audit(
        principal: AdminPrincipal, runtime: RuntimeDep, paging: CursorPagingDep, filters: FilterDep
    ) -> CursorPage[AuditEntryRead]:
        async with runtime.session_factory() as session:
            return await read_page(session, principal.tenant_id, filters, paging)

    @router.get(
        "/audit/export",
        summary="The audit log as CSV or NDJSON (oldest first), with the same filters",
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                }
            },
            422: {"description": "A filter is not valid"},
        },
    )
    async def export_audit(
        principal: AdminPrincipal,
        runtime: RuntimeDep,
        filters: FilterDep,
        format: Literal["csv", "ndjson"] = Query(default="csv", description="`csv` or `ndjson`."),
    ) -> StreamingResponse:
        async def chunks() -> AsyncIterator[str]:
            async with runtime.session_factory() as session:
                async for chunk in export_rows(session, principal.tenant_id, filters, format):
                    yield chunk

        media = "text/csv" if format == "csv" else "application/x-ndjson"
        return StreamingResponse(
            chunks(),
            media_type=media,
            headers={"Content-Disposition": content_disposition(f"audit.{format}")},
        )

    return router
