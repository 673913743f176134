"""Report templates (one per tenant) and report share links in memory, as
adapters/repositories/reports.py keeps them."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime

from services.notifications.tests.unit.fake_store import Repository
from tangible_notifications.adapters.repositories.reports import template_from_body
from tangible_notifications.domain.report_template import ReportTemplate
from tangible_notifications.domain.sharing import ShareLink


class FakeReportTemplates(Repository):
    async def get(self, tenant_id: str) -> ReportTemplate | None:
        body = self.s.report_templates.get(tenant_id)
        return template_from_body(body) if body is not None else None  # read back as the jsonb body is

    async def put(self, tenant_id: str, template: ReportTemplate, now: datetime) -> None:
        self.s.report_templates[tenant_id] = {**asdict(template), "sections": list(template.sections)}

    async def delete(self, tenant_id: str) -> bool:
        return self.s.report_templates.pop(tenant_id, None) is not None


class FakeShareLinks(Repository):
    async def add(self, link: ShareLink) -> None:
        if link.id in self.s.share_links:
            raise ValueError(f"duplicate key value violates unique constraint: share link {link.id}")
        self.s.share_links[link.id] = link

    async def get(self, tenant_id: str, link_id: str) -> ShareLink | None:
        link = self.s.share_links.get(link_id)
        return link if link is not None and link.tenant_id == tenant_id else None

    async def of_account(
        self, tenant_id: str, account_id: str, *, limit: int, offset: int
    ) -> list[ShareLink]:
        owner = (tenant_id, account_id)
        mine = [k for k in self.s.share_links.values() if (k.tenant_id, k.account_id) == owner]
        mine.sort(key=lambda k: k.id)
        mine.sort(key=lambda k: k.created_at, reverse=True)
        return mine[offset : offset + limit]

    async def revoke(self, tenant_id: str, link_id: str, now: datetime) -> None:
        link = await self.get(tenant_id, link_id)
        if link is not None and link.revoked_at is None:
            self.s.share_links[link_id] = replace(link, revoked_at=now)
