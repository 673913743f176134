"""Share links of impact reports: read-only, no login, expiring, revocable; and the shared
report they open."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Response

from tangible_notifications.domain.periods import parse_period
from tangible_notifications.domain.report_template import DEFAULT_TEMPLATE
from tangible_notifications.domain.sharing import ShareLink
from tangible_notifications.entrypoints.api.reports import DOCUMENTS, Format, build, render, report_period
from tangible_notifications.entrypoints.dependencies import Container, ContainerDep
from tangible_notifications.entrypoints.schemas.common import UncountedPage
from tangible_notifications.entrypoints.schemas.reports import (
    ImpactReportRead,
    ShareLinkCreate,
    ShareLinkRead,
)
from tangible_notifications.service_layer.handlers import reports as handlers
from tangible_runtime.app import ReadPrincipal
from tangible_runtime.domain import NotFound
from tangible_runtime.paging import PagingDep
from tangible_runtime.problems import ProblemError

router = APIRouter(tags=["reports"])


def _link_read(link: ShareLink, container: Container, now: datetime) -> ShareLinkRead:
    assert container.share_signer is not None
    token = container.share_signer.token(link.tenant_id, link.id)
    status: Literal["active", "expired", "revoked"] = (
        "revoked" if link.revoked_at is not None else "active" if link.valid_at(now) else "expired"
    )
    return ShareLinkRead(
        id=link.id,
        account_id=link.account_id,
        period=link.period,
        locale=link.locale,
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        status=status,
        url=f"{container.settings.public_url.rstrip('/')}/v1/shared-reports/{token}",
    )


def _require_signer(container: Container) -> None:
    if container.share_signer is None:
        raise ProblemError(
            409,
            "share links not configured",
            type_="share-links-not-configured",
            detail="set NOTIFICATIONS_REPORT_LINK_KEY or NOTIFICATIONS_SECRETS_KEY",
        )


@router.post(
    "/accounts/{account_id}/report/share-links",
    status_code=201,
    response_model=ShareLinkRead,
    summary="A read-only link to the account's report, for people without a login",
)
async def create_share_link(
    account_id: str, body: ShareLinkCreate, principal: ReadPrincipal, container: ContainerDep
) -> ShareLinkRead:
    principal.require_account(account_id)
    _require_signer(container)
    now = container.clock.now()
    period = report_period(body.period, now)
    locale = body.locale
    if locale is None:
        async with container.new_uow() as uow:
            template = await uow.report_templates.get(principal.tenant_id) or DEFAULT_TEMPLATE
            locale = await handlers.reader_locale(
                uow, principal.tenant_id, account_id, principal.user_id, template
            )  # type: ignore[assignment]
    link = await handlers.create_share_link(
        container.new_uow(),
        tenant_id=principal.tenant_id,
        account_id=account_id,
        period=period,
        locale=locale or "en",
        ttl=timedelta(hours=body.ttl_hours),
        now=now,
    )
    return _link_read(link, container, now)


@router.get(
    "/accounts/{account_id}/report/share-links",
    response_model=UncountedPage[ShareLinkRead],
    summary="The account's share links, newest first",
)
async def list_share_links(
    account_id: str, principal: ReadPrincipal, container: ContainerDep, paging: PagingDep
) -> UncountedPage[ShareLinkRead]:
    principal.require_account(account_id)
    _require_signer(container)
    async with container.new_uow() as uow:
        links = await uow.share_links.of_account(
            principal.tenant_id, account_id, limit=paging.limit, offset=paging.offset
        )
    now = container.clock.now()
    return UncountedPage[ShareLinkRead].at([_link_read(link, container, now) for link in links], paging)


@router.post(
    "/accounts/{account_id}/report/share-links/{link_id}/revoke",
    response_model=ShareLinkRead,
    summary="Revoke a share link: it stops working at once",
)
async def revoke_share_link(
    account_id: str, link_id: str, principal: ReadPrincipal, container: ContainerDep
) -> ShareLinkRead:
    principal.require_account(account_id)
    _require_signer(container)
    now = container.clock.now()
    link = await handlers.revoke_share_link(
        container.new_uow(), tenant_id=principal.tenant_id, account_id=account_id, link_id=link_id, now=now
    )
    return _link_read(link, container, now)


@router.get(
    "/shared-reports/{token}",
    response_model=ImpactReportRead,
    responses={**DOCUMENTS, 410: {"description": "The link expired or was revoked"}},  # type: ignore[dict-item]
    summary="A shared report (public: the signed token is the credential; read-only)",
)
async def shared_report(token: str, container: ContainerDep, format: Format = "html") -> Response:
    signed = container.share_signer.verify(token) if container.share_signer is not None else None
    if signed is None:
        raise NotFound("no such shared report")
    tenant_id, link_id = signed
    async with container.new_uow(tenant=tenant_id) as uow:
        link = await uow.share_links.get(tenant_id, link_id)
    if link is None:
        raise NotFound("no such shared report")
    now = container.clock.now()
    if not link.valid_at(now):
        gone = "revoked" if link.revoked_at is not None else "expired"
        raise ProblemError(410, f"share link {gone}", type_=f"share-link-{gone}")
    built = await build(
        container, tenant_id, link.account_id, parse_period(link.period), link.locale, None, shared=True
    )
    response = await render(built.report, built.template, built.locale, format)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
