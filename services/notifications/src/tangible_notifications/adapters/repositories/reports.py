"""Report templates (one per tenant) and report share links."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_notifications.adapters import tables as t
from tangible_notifications.domain.report import SECTIONS
from tangible_notifications.domain.report_template import ReportTemplate
from tangible_notifications.domain.sharing import ShareLink


def template_from_body(body: dict[str, Any]) -> ReportTemplate:
    defaults = ReportTemplate()
    return ReportTemplate(
        logo=body.get("logo"),
        primary_color=body.get("primary_color") or defaults.primary_color,
        accent_color=body.get("accent_color") or defaults.accent_color,
        sections=tuple(s for s in body.get("sections") or SECTIONS if s in SECTIONS),
        wording={k: dict(v) for k, v in (body.get("wording") or {}).items()},
        default_locale=body.get("default_locale") or defaults.default_locale,
    )


class ReportTemplateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, tenant_id: str) -> ReportTemplate | None:
        query = select(t.report_templates.c.body).where(t.report_templates.c.tenant_id == tenant_id)
        body = (await self._session.execute(query)).scalar_one_or_none()
        return template_from_body(body) if body is not None else None

    async def put(self, tenant_id: str, template: ReportTemplate, now: datetime) -> None:
        body = {**asdict(template), "sections": list(template.sections)}
        statement = insert(t.report_templates).values(tenant_id=tenant_id, body=body, updated_at=now)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id"], set_={"body": body, "updated_at": now}
            )
        )

    async def delete(self, tenant_id: str) -> bool:
        result = await self._session.execute(
            delete(t.report_templates).where(t.report_templates.c.tenant_id == tenant_id)
        )
        return bool(getattr(result, "rowcount", 0))


def _link(row: RowMapping) -> ShareLink:
    return ShareLink(
        id=row["id"],
        tenant_id=row["tenant_id"],
        account_id=row["account_id"],
        period=row["period"],
        locale=row["locale"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


class ShareLinkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, link: ShareLink) -> None:
        await self._session.execute(insert(t.report_share_links).values(**asdict(link)))

    async def get(self, tenant_id: str, link_id: str) -> ShareLink | None:
        c = t.report_share_links.c
        query = select(t.report_share_links).where(c.tenant_id == tenant_id, c.id == link_id)
        row = (await self._session.execute(query)).mappings().first()
        return _link(row) if row is not None else None

    async def of_account(
        self, tenant_id: str, account_id: str, *, limit: int, offset: int
    ) -> list[ShareLink]:
        c = t.report_share_links.c
        query = (
            select(t.report_share_links)
            .where(c.tenant_id == tenant_id, c.account_id == account_id)
            .order_by(c.created_at.desc(), c.id)
            .limit(limit)
            .offset(offset)
        )
        return [_link(row) for row in (await self._session.execute(query)).mappings()]

    async def revoke(self, tenant_id: str, link_id: str, now: datetime) -> None:
        c = t.report_share_links.c
        await self._session.execute(
            update(t.report_share_links)
            .where(c.tenant_id == tenant_id, c.id == link_id, c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
