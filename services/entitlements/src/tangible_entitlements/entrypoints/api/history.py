"""Audit-ready history of an account: pages with filters, JSON / CSV export, verification."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import StringConstraints

from tangible_entitlements.entrypoints.api.common import PagingDep
from tangible_entitlements.entrypoints.dependencies import ContainerDep
from tangible_entitlements.entrypoints.schemas.common import Rfc3339
from tangible_entitlements.entrypoints.schemas.lifecycle import HistoryRecordRead, VerifyRead
from tangible_entitlements.service_layer import history
from tangible_entitlements.service_layer.reads import HistoryFilter
from tangible_runtime.app import ReadPrincipal
from tangible_runtime.content_disposition import content_disposition
from tangible_runtime.paging import Page
from tangible_runtime.problems import ProblemError

router = APIRouter(tags=["history"])
MAX_VERIFY_BYTES = 50 * 1024 * 1024


# PostgreSQL cannot compare text holding NUL: refused here, in the document too, rather than
# by the database, which the export would only meet after its 200 and its first bytes
_NO_NUL = r"^[^\x00]*$"


async def _filters(
    action: list[Annotated[str, StringConstraints(pattern=_NO_NUL)]] = Query(
        default=[], description="Only these actions (repeatable)."
    ),
    license_id: str | None = Query(default=None, pattern=_NO_NUL),
    actor: str | None = Query(default=None, pattern=_NO_NUL),
    from_: Rfc3339 | None = Query(default=None, alias="from", description="At or after (RFC 3339)."),
    to: Rfc3339 | None = Query(default=None, description="Before (RFC 3339)."),
) -> HistoryFilter:
    return HistoryFilter(tuple(action), license_id, actor, from_, to)


FiltersDep = Annotated[HistoryFilter, Depends(_filters)]


@router.get(
    "/accounts/{account_id}/history",
    response_model=Page[HistoryRecordRead],
    summary="Every change to the account's licenses, seats, trials and grants, hash-chained",
)
async def account_history(
    account_id: str,
    principal: ReadPrincipal,
    container: ContainerDep,
    paging: PagingDep,
    filters: FiltersDep,
) -> Page[HistoryRecordRead]:
    principal.require_account(account_id)
    async with container.new_uow() as uow:
        records, total = await uow.history.page(
            principal.tenant_id, account_id, filters, limit=paging.limit, offset=paging.offset
        )
    return Page.of([HistoryRecordRead.model_validate(r) for r in records], total, paging)


@router.get(
    "/accounts/{account_id}/history/export",
    summary="The history as JSON (with its chain head) or CSV, for audits",
    response_class=StreamingResponse,
)
async def export_history(
    account_id: str,
    principal: ReadPrincipal,
    container: ContainerDep,
    filters: FiltersDep,
    format: Literal["json", "csv"] = "json",
) -> StreamingResponse:
    principal.require_account(account_id)
    chunks = history.export(
        container.new_uow(), principal.tenant_id, account_id, filters, format, container.clock.now()
    )
    media = "text/csv" if format == "csv" else "application/json"
    name = f"history-{account_id}.{format}"
    # The account id is user input: any Unicode, quotes or line breaks (see content_disposition).
    return StreamingResponse(
        chunks, media_type=media, headers={"Content-Disposition": content_disposition(name)}
    )


@router.get(
    "/accounts/{account_id}/history/verify",
    response_model=VerifyRead,
    summary="Recompute the stored chain: intact, or the first record that is not as written",
)
async def verify_stored(account_id: str, principal: ReadPrincipal, container: ContainerDep) -> VerifyRead:
    principal.require_account(account_id)
    verdict = await history.verify_stored(container.new_uow(), principal.tenant_id, account_id)
    return VerifyRead(**asdict(verdict))


@router.post(
    "/accounts/{account_id}/history/verify",
    response_model=VerifyRead,
    summary="Prove an export (JSON, or CSV as text/csv) intact, or find its first altered record",
)
async def verify_export(
    account_id: str, request: Request, principal: ReadPrincipal, container: ContainerDep
) -> VerifyRead:
    principal.require_account(account_id)
    body = await request.body()
    if len(body) > MAX_VERIFY_BYTES:
        raise ProblemError(413, "export too large", type_="export-too-large")
    is_csv = request.headers.get("content-type", "").startswith("text/csv")
    try:
        data = history.parse(body, is_csv=is_csv)
    except history.UnreadableExport as error:
        raise ProblemError(422, "unreadable export", type_="unreadable-export", detail=str(error)) from error
    if data.account_id not in (None, account_id):
        raise ProblemError(422, "another account's export", type_="account-mismatch")
    verdict = await history.verify_export(container.new_uow(), principal.tenant_id, account_id, data)
    return VerifyRead(**asdict(verdict))
