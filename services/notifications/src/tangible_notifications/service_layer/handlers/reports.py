"""Impact reports: build one (the tenant's template, the reader's language, the other
services' figures), report templates, and share links."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tangible_notifications.domain.periods import Period
from tangible_notifications.domain.report import ImpactReport
from tangible_notifications.domain.report_template import DEFAULT_TEMPLATE, LOCALES, ReportTemplate
from tangible_notifications.domain.sharing import ShareLink
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
    """Raises SourcesUnavailable when entitlements does not answer."""
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
