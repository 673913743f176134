"""Impact reports: an account's report (JSON, HTML, PDF, CSV) and the tenant's report
template (admin) with a preview; share links are in `share_links`."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Response

from tangible_notifications.adapters.repositories.reports import template_from_body
from tangible_notifications.domain.periods import (
    PERIOD_PATTERN,
    InvalidPeriod,
    Period,
    last_complete_quarter,
    parse_period,
)
from tangible_notifications.domain.report import ImpactReport
from tangible_notifications.domain.report_sample import sample_report
from tangible_notifications.domain.report_template import DEFAULT_TEMPLATE, ReportTemplate
from tangible_notifications.domain.report_view import peer_sentence, view
from tangible_notifications.entrypoints.dependencies import Container, ContainerDep
from tangible_notifications.entrypoints.schemas.reports import (
    ExpiringRead,
    FeatureLineRead,
    ImpactReportRead,
    MilestoneRead,
    PeerRead,
    ReportPreviewRequest,
    ReportTemplateIO,
    RewardEarnedRead,
    SeatsRead,
    ValueLineRead,
)
from tangible_notifications.service_layer.handlers import reports as handlers
from tangible_runtime.app import AdminPrincipal, ReadPrincipal
from tangible_runtime.content_disposition import content_disposition
from tangible_runtime.domain import Rejected
from tangible_runtime.logs import get_logger
from tangible_runtime.problems import ProblemError

log = get_logger(__name__)
router = APIRouter(tags=["reports"])
Format = Literal["json", "html", "pdf", "csv"]
MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}
DOCUMENTS = {
    200: {
        "description": "The report: JSON (this schema), or HTML, PDF or CSV by `format`.",
        "content": {"text/html": {}, "application/pdf": {}, "text/csv": {}},
    },
    503: {"description": "Reports are not served by this process"},
}
# matplotlib and fpdf2 are not thread-safe: one render at a time per process, off the loop
_RENDER = threading.Lock()


def report_period(text: str | None, now: datetime) -> Period:
    if text is None:
        return last_complete_quarter(now.date())
    try:
        return parse_period(text)
    except InvalidPeriod as error:
        raise Rejected(str(error)) from error


def as_json(report: ImpactReport, template: ReportTemplate, locale: str) -> ImpactReportRead:
    peer = report.peer
    return ImpactReportRead.model_validate(
        {
            "account_id": report.account_id,
            "period": report.period.key,
            "from": report.period.start,
            "to": report.period.end,
            "locale": locale,
            "generated_at": report.generated_at,
            "headline": list(view(report, template, locale).headline),
            "features": [
                FeatureLineRead(
                    feature_key=f.key,
                    name=f.name,
                    outcome=f.outcome,
                    total=f.total,
                    previous=f.previous,
                    year_earlier=f.year_earlier,
                    change_percent=f.change,
                    change_year_percent=f.change_year,
                    metric=f.metric,
                    value=f.value,
                    percentile=f.percentile,
                    series=list(f.series),
                )
                for f in report.features
            ],
            "value": [
                ValueLineRead(metric=v.metric, value=v.value, previous=v.previous, change_percent=v.change)
                for v in report.value
            ],
            "value_history": list(report.value_history),
            "seats": SeatsRead(
                purchased=report.seats.purchased, assigned=report.seats.assigned, active=report.seats.active
            )
            if report.seats
            else None,
            "milestones": [
                MilestoneRead(name=m.name, summary=m.summary, percent=m.percent, reached=m.reached)
                for m in report.milestones
            ],
            "rewards": [
                RewardEarnedRead(name=r.name, credits=r.credits, granted_at=r.granted_at)
                for r in report.rewards
            ],
            "credits_granted": report.credits_granted,
            "balance": report.balance,
            "expiring": [ExpiringRead(amount=e.amount, expires_at=e.expires_at) for e in report.expiring],
            "peer": PeerRead(
                feature=peer.feature,
                plan_key=peer.plan_key,
                plan_name=peer.plan_name,
                percentile=peer.percentile,
                sentence=peer_sentence(report, template, locale) or "",
            )
            if peer
            else None,
            "unused": list(report.unused),
            "missing": list(report.missing),
        }
    )


def _render_sync(report: ImpactReport, template: ReportTemplate, locale: str, format: str) -> bytes:
    # imported on the first rendering, not at start-up: matplotlib and fpdf2 cost 1.8 s of CPU
    # per process on a 2-core machine, and every role's process imports these routes
    from tangible_notifications.adapters import report_documents as documents

    with _RENDER:
        if format == "html":
            return documents.html(report, template, locale).encode()
        if format == "pdf":
            return documents.pdf(report, template, locale)
        return documents.csv_text(report).encode()


async def render(report: ImpactReport, template: ReportTemplate, locale: str, format: Format) -> Response:
    if format == "json":
        body = as_json(report, template, locale).model_dump_json(by_alias=True)
        return Response(body, media_type="application/json")
    content = await asyncio.to_thread(_render_sync, report, template, locale, format)
    name = f"impact-report-{report.account_id}-{report.period.key}.{format}"
    disposition: Literal["inline", "attachment"] = "inline" if format in ("html", "pdf") else "attachment"
    return Response(
        content,
        media_type=MEDIA[format],
        headers={"Content-Disposition": content_disposition(name, disposition)}
        if format != "html"
        else {"Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'"},
    )


async def build(
    container: Container,
    tenant_id: str,
    account_id: str,
    period: Period,
    locale: str | None,
    user_id: str | None,
    *,
    shared: bool = False,
) -> handlers.Built:
    if container.report_sources is None:
        raise ProblemError(
            503, "reports unavailable", type_="reports-unavailable", detail="not an API process"
        )
    return await handlers.build_report(
        # a shared link has no principal: its transaction is the link's tenant's
        container.new_uow(tenant=tenant_id if shared else None),
        container.report_sources,
        tenant_id=tenant_id,
        account_id=account_id,
        period=period,
        locale=locale,
        user_id=user_id,
        now=container.clock.now(),
    )


@router.get(
    "/accounts/{account_id}/report",
    response_model=ImpactReportRead,
    responses=DOCUMENTS,  # type: ignore[arg-type]
    summary="The account's impact report for a period: JSON, HTML, PDF (charts included) or CSV",
)
async def get_report(
    account_id: str,
    principal: ReadPrincipal,
    container: ContainerDep,
    period: str | None = Query(
        default=None,
        pattern=PERIOD_PATTERN,
        description="YYYY-MM, YYYY-Qn, YYYY or YYYY-MM-DD..YYYY-MM-DD; default: the last complete quarter.",
    ),
    format: Format = "json",
    locale: Literal["en", "de"] | None = Query(
        default=None, description="Default: the reader's preference, else the tenant's."
    ),
) -> Response:
    principal.require_account(account_id)
    started = time.perf_counter()
    built = await build(
        container,
        principal.tenant_id,
        account_id,
        report_period(period, container.clock.now()),
        locale,
        principal.user_id,
    )
    gathered = time.perf_counter()
    response = await render(built.report, built.template, built.locale, format)
    # where a slow report spends its time: the other services' figures, or drawing it
    log.info(
        "impact_report_served",
        format=format,
        missing=list(built.report.missing),
        gather_seconds=round(gathered - started, 3),
        render_seconds=round(time.perf_counter() - gathered, 3),
    )
    return response


@router.get(
    "/report-template", response_model=ReportTemplateIO, summary="The tenant's report template (admin)"
)
async def get_report_template(principal: AdminPrincipal, container: ContainerDep) -> ReportTemplateIO:
    async with container.new_uow() as uow:
        template = await uow.report_templates.get(principal.tenant_id) or DEFAULT_TEMPLATE
    return _template_io(template)


def _template_io(template: ReportTemplate) -> ReportTemplateIO:
    return ReportTemplateIO.model_validate(
        {
            "logo": template.logo,
            "primary_color": template.primary_color,
            "accent_color": template.accent_color,
            "sections": list(template.sections),
            "wording": template.wording,
            "default_locale": template.default_locale,
        }
    )


def _template(body: ReportTemplateIO) -> ReportTemplate:
    if len(set(body.sections)) != len(body.sections):
        raise Rejected("each section at most once")
    return template_from_body(body.model_dump())


@router.put(
    "/report-template", response_model=ReportTemplateIO, summary="Set the tenant's report template (admin)"
)
async def put_report_template(
    body: ReportTemplateIO, principal: AdminPrincipal, container: ContainerDep
) -> ReportTemplateIO:
    template = _template(body)
    await handlers.put_report_template(
        container.new_uow(), principal.tenant_id, template, container.clock.now()
    )
    return _template_io(template)


@router.delete("/report-template", status_code=204, summary="Back to the default report template (admin)")
async def delete_report_template(principal: AdminPrincipal, container: ContainerDep) -> Response:
    await handlers.delete_report_template(container.new_uow(), principal.tenant_id)
    return Response(status_code=204)


@router.post(
    "/report-template/preview",
    responses={
        200: {
            "description": "The sample report, HTML or PDF.",
            "content": {"text/html": {}, "application/pdf": {}},
        }
    },
    response_class=Response,
    summary="A sample report in a template (the given one, else the stored one) (admin)",
)
async def preview_report_template(
    body: ReportPreviewRequest, principal: AdminPrincipal, container: ContainerDep
) -> Response:
    if body.template is not None:
        template = _template(body.template)
    else:
        async with container.new_uow() as uow:
            template = await uow.report_templates.get(principal.tenant_id) or DEFAULT_TEMPLATE
    return await render(sample_report(container.clock.now()), template, body.locale, body.format)
