"""Impact reports: build one (the tenant's template, the reader's language, the other
services' figures), report templates, and share links."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tangible_notifications.domain.periods import Period
from tangible_notifications.domain.report import ImpactReport
from tangible_notifications.domain.report_template import DEFAULT_TEMPLATE, LOCALES, ReportTemplate
from tangible_notifications.domain.report_view import Formatter, peer_sentence, view
from tangible_notifications.domain.sharing import ShareLink, ShareSigner
from tangible_notifications.service_layer.ports import ReportSources, UnitOfWork
from tangible_notifications.service_layer.reports import assemble
from tangible_runtime.domain import NotFound


@dataclass(frozen=True)
class Built:
    report: ImpactReport
    template: ReportTemplate
    locale: str


async def reader_locale(
    uow: UnitOfWork, tenant_id: str, account_id: str, user_id: str | None, template: ReportTemplate
) -> str:
    """The user's language, else the account's, else the tenant's default."""
    for who in (user_id, None) if user_id else (None,):
        preference = await uow.preferences.get(tenant_id, account_id, who)
        if preference is not None and preference.locale in LOCALES:
            return preference.locale
    return template.default_locale if template.default_locale in LOCALES else "en"


async def build_report(
    uow: UnitOfWork,
    sources: ReportSources,
    *,
    tenant_id: str,
    account_id: str,
    period: Period,
    locale: str | None,
    user_id: str | None,
    now: datetime,
) -> Built:
    async with uow:
        template = await uow.report_templates.get(tenant_id) or DEFAULT_TEMPLATE
        chosen = locale or await reader_locale(uow, tenant_id, account_id, user_id, template)
    raw = await sources.sources(tenant_id, account_id, period)
    return Built(assemble(raw, account_id, period, now), template, chosen)


async def put_report_template(
    uow: UnitOfWork, tenant_id: str, template: ReportTemplate, now: datetime
) -> None:
    async with uow:
        await uow.report_templates.put(tenant_id, template, now)
        await uow.commit()


async def delete_report_template(uow: UnitOfWork, tenant_id: str) -> None:
    async with uow:
        if not await uow.report_templates.delete(tenant_id):
            raise NotFound("no report template: the default is in use")
        await uow.commit()


async def create_share_link(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    account_id: str,
    period: Period,
    locale: str,
    ttl: timedelta,
    now: datetime,
) -> ShareLink:
    link = ShareLink(
        id=secrets.token_urlsafe(16),
        tenant_id=tenant_id,
        account_id=account_id,
        period=period.key,
        locale=locale,
        created_at=now,
        expires_at=now + ttl,
    )
    async with uow:
        await uow.share_links.add(link)
        await uow.commit()
    return link


async def revoke_share_link(
    uow: UnitOfWork, *, tenant_id: str, account_id: str, link_id: str, now: datetime
) -> ShareLink:
    async with uow:
        link = await uow.share_links.get(tenant_id, link_id)
        if link is None or link.account_id != account_id:
            raise NotFound(f"no share link '{link_id}'")
        await uow.share_links.revoke(tenant_id, link_id, now)
        await uow.commit()
    return replace(link, revoked_at=link.revoked_at or now)


@dataclass(frozen=True)
class SummaryReports:
    """What a quarterly summary needs to carry its report: the figures, and a share link
    (when share links are configured) readers and their leadership open without a login."""

    sources: ReportSources
    signer: ShareSigner | None
    public_url: str
    link_ttl: timedelta = timedelta(days=30)


async def summary_context(
    uow: UnitOfWork,
    reports: SummaryReports,
    tenant_id: str,
    account_id: str,
    period: Period,
    now: datetime,
    *,
    locale: str | None = None,
) -> dict[str, Any]:
    """`impact.report` of a quarterly summary: the headline figures with their trend in the
    reader's language, the peer line where the cohort allows it, the share link and the PDF.
    Runs in the composing transaction, so the link exists if, and only if, the message does."""
    template = await uow.report_templates.get(tenant_id) or DEFAULT_TEMPLATE
    locale = locale or await reader_locale(uow, tenant_id, account_id, None, template)
    report = assemble(await reports.sources.sources(tenant_id, account_id, period), account_id, period, now)
    if "usage" in report.missing:
        return {}  # the impact note already says the figures could not be gathered
    top = report.value[0] if report.value else None
    context: dict[str, Any] = {
        "period": period.key,
        "locale": locale,
        "headline": list(view(report, template, locale).headline),
        "trend": Formatter(locale).change(top.change) if top is not None else None,
        "peer": peer_sentence(report, template, locale),
        "url": None,
        "pdf_url": None,
    }
    if reports.signer is not None:
        link = ShareLink(
            id=secrets.token_urlsafe(16),
            tenant_id=tenant_id,
            account_id=account_id,
            period=period.key,
            locale=locale,
            created_at=now,
            expires_at=now + reports.link_ttl,
        )
        await uow.share_links.add(link)
        url = f"{reports.public_url.rstrip('/')}/v1/shared-reports/{reports.signer.token(tenant_id, link.id)}"
        context |= {"url": url, "pdf_url": f"{url}?format=pdf"}
    return {"report": context}
