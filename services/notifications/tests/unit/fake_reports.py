"""Fake repositories of report templates and share links, over the shared store."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from services.notifications.tests.unit.fake_store import Repository
from tangible_notifications.domain.report_template import ReportTemplate
from tangible_notifications.domain.sharing import ShareLink


class FakeReportTemplates(Repository):
    async def get(self, tenant_id: str) -> ReportTemplate | None:
        return self.s.report_templates.get(tenant_id)

    async def put(self, tenant_id: str, template: ReportTemplate, now: datetime) -> None:
        self.s.report_templates[tenant_id] = template

    async def delete(self, tenant_id: str) -> bool:
        return self.s.report_templates.pop(tenant_id, None) is not None


class FakeShareLinks(Repository):
    async def add(self, link: ShareLink) -> None:
        self.s.share_links[link.id] = link

    async def get(self, tenant_id: str, link_id: str) -> ShareLink | None:
        link = self.s.share_links.get(link_id)
        return link if link is not None and link.tenant_id == tenant_id else None

    async def of_account(
        self, tenant_id: str, account_id: str, *, limit: int, offset: int
    ) -> list[ShareLink]:
        links = [
            link
            for link in self.s.share_links.values()
            if link.tenant_id == tenant_id and link.account_id == account_id
        ]
        links.sort(key=lambda link: link.id)
        links.sort(key=lambda link: link.created_at, reverse=True)  # newest first, then by id
        return links[offset : offset + limit]

    async def revoke(self, tenant_id: str, link_id: str, now: datetime) -> None:
        link = await self.get(tenant_id, link_id)
        if link is not None and link.revoked_at is None:
            self.s.share_links[link_id] = dataclasses.replace(link, revoked_at=now)
