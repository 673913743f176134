"""Fake repositories of the tenant's configuration: rules, channels, templates, settings,
preferences, the accounts heard of, and schedule runs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import fields, replace
from datetime import date, datetime

from services.notifications.tests.unit.fake_store import Repository
from tangible_notifications.domain.model import (
    Endpoint,
    NotificationRule,
    Preference,
    Template,
    TenantSettings,
)
from tangible_notifications.domain.records import StoredSecret, StoredTemplate
from tangible_notifications.service_layer.ports import AccountTerm


def _patch(endpoint: Endpoint, values: dict[str, object]) -> Endpoint:
    known = {f.name for f in fields(Endpoint)}
    return replace(endpoint, **{k: v for k, v in values.items() if k in known})  # type: ignore[arg-type]


class FakeRules(Repository):
    async def add(self, tenant_id: str, rule: NotificationRule) -> None:
        self.s.rules[(tenant_id, rule.id)] = rule

    async def replace(self, tenant_id: str, rule: NotificationRule) -> bool:
        if (tenant_id, rule.id) not in self.s.rules:
            return False
        self.s.rules[(tenant_id, rule.id)] = rule
        return True

    async def get(self, tenant_id: str, rule_id: str) -> NotificationRule | None:
        return self.s.rules.get((tenant_id, rule_id))

    async def page(self, tenant_id: str, *, limit: int, offset: int) -> list[NotificationRule]:
        return [r for (t, _), r in self.s.rules.items() if t == tenant_id][offset : offset + limit]

    async def for_tenants(self, tenant_ids: Iterable[str]) -> dict[str, list[NotificationRule]]:
        wanted, found = set(tenant_ids), defaultdict(list)
        for (tenant, _), rule in self.s.rules.items():
            if tenant in wanted and rule.enabled:
                found[tenant].append(rule)
        return dict(found)

    async def event_patterns(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = defaultdict(set)
        for (tenant, _), rule in self.s.rules.items():
            if rule.enabled:
                found[tenant].update(rule.event_types)
        return dict(found)


class FakeChannels(Repository):
    async def add(self, endpoint: Endpoint, created_at: datetime) -> None:
        self.s.channels[endpoint.id] = endpoint

    async def get(self, tenant_id: str, channel_id: str, *, for_update: bool = False) -> Endpoint | None:
        endpoint = self.s.channels.get(channel_id)
        return endpoint if endpoint and endpoint.tenant_id == tenant_id else None

    async def page(self, tenant_id: str, *, limit: int, offset: int) -> list[Endpoint]:
        return [e for e in self.s.channels.values() if e.tenant_id == tenant_id][offset : offset + limit]

    async def for_tenants(self, tenant_ids: Iterable[str]) -> dict[str, list[Endpoint]]:
        wanted, found = set(tenant_ids), defaultdict(list)
        for e in self.s.channels.values():
            if e.tenant_id in wanted and e.enabled:
                found[e.tenant_id].append(e)
        return dict(found)

    async def by_ids(self, channel_ids: Iterable[str]) -> dict[str, Endpoint]:
        return {i: self.s.channels[i] for i in channel_ids if i in self.s.channels}

    async def mark_failing(self, channel_id: str, now: datetime) -> datetime:
        endpoint = self.s.channels[channel_id]
        since = endpoint.failing_since or now
        self.s.channels[channel_id] = replace(endpoint, failing_since=since)
        return since

    async def update(self, tenant_id: str, channel_id: str, **values: object) -> None:
        if await self.get(tenant_id, channel_id):
            await self.update_by_id(channel_id, **values)

    async def update_by_id(self, channel_id: str, **values: object) -> None:
        if channel_id in self.s.channels:
            self.s.channels[channel_id] = _patch(self.s.channels[channel_id], values)

    async def add_secret(
        self, channel_id: str, secret_id: str, ciphertext: str, created_at: datetime
    ) -> None:
        self.s.secrets[channel_id].insert(0, StoredSecret(secret_id, ciphertext, created_at, None))

    async def expire_secrets(self, channel_id: str, expires_at: datetime) -> None:
        self.s.secrets[channel_id] = [
            replace(s, expires_at=expires_at) if s.expires_at is None else s
            for s in self.s.secrets[channel_id]
        ]

    async def active_secrets(
        self, channel_ids: Iterable[str], now: datetime
    ) -> dict[str, list[StoredSecret]]:
        active = {
            i: [s for s in self.s.secrets.get(i, []) if not s.expires_at or s.expires_at > now]
            for i in channel_ids
        }
        return {i: secrets for i, secrets in active.items() if secrets}


class FakeTemplates(Repository):
    async def put(
        self, tenant_id: str, event_type: str, channel: str, template: Template, now: datetime
    ) -> None:
        self.s.templates[(tenant_id, event_type, channel)] = template

    async def delete(self, tenant_id: str, event_type: str, channel: str) -> bool:
        return self.s.templates.pop((tenant_id, event_type, channel), None) is not None

    async def page(self, tenant_id: str, *, limit: int, offset: int) -> list[StoredTemplate]:
        mine = sorted((k[1], k[2], t) for k, t in self.s.templates.items() if k[0] == tenant_id)
        stored = [StoredTemplate(e, c, t.title, t.body, t.html) for e, c, t in mine]
        return stored[offset : offset + limit]

    async def for_tenants(self, tenant_ids: Iterable[str]) -> dict[str, dict[tuple[str, str], Template]]:
        wanted = set(tenant_ids)
        found: dict[str, dict[tuple[str, str], Template]] = defaultdict(dict)
        for (tenant, event_type, channel), template in self.s.templates.items():
            if tenant in wanted:
                found[tenant][(event_type, channel)] = template
        return dict(found)


class FakeTenantSettings(Repository):
    async def get(self, tenant_id: str) -> TenantSettings:
        return self.s.settings.get(tenant_id, TenantSettings())

    async def for_tenants(self, tenant_ids: Iterable[str]) -> dict[str, TenantSettings]:
        return {t: self.s.settings.get(t, TenantSettings()) for t in set(tenant_ids)}

    async def put(self, tenant_id: str, settings: TenantSettings) -> None:
        self.s.settings[tenant_id] = settings

    async def quarterly_tenants(self) -> list[str]:
        return [t for t, s in self.s.settings.items() if s.quarterly_summary]


class FakePreferences(Repository):
    async def put(self, tenant_id: str, preference: Preference) -> None:
        self.s.preferences[(tenant_id, preference.account_id, preference.user_id or "")] = preference

    async def get(self, tenant_id: str, account_id: str, user_id: str | None) -> Preference | None:
        return self.s.preferences.get((tenant_id, account_id, user_id or ""))

    async def for_accounts(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Preference]]:
        wanted, found = set(keys), defaultdict(list)
        for (tenant, account, _), preference in self.s.preferences.items():
            if (tenant, account) in wanted:
                found[(tenant, account)].append(preference)
        return dict(found)


class FakeAccounts(Repository):
    async def remember(self, rows: Sequence[AccountTerm]) -> None:
        for tenant, account, license_id, start, end in rows:
            _, _, was_license, was_start, was_end = self.s.accounts.get(
                (tenant, account), (tenant, account, None, None, None)
            )
            later = [
                max(d for d in pair if d) if any(pair) else None
                for pair in ((start, was_start), (end, was_end))
            ]
            self.s.accounts[(tenant, account)] = (
                tenant,
                account,
                license_id or was_license,
                later[0],
                later[1],
            )

    async def term_start(self, tenant_id: str, account_id: str) -> date | None:
        return self.s.accounts.get((tenant_id, account_id), (None, None, None, None, None))[3]

    async def page(self, tenant_id: str, after: str, limit: int) -> list[str]:
        return sorted(a for t, a in self.s.accounts if t == tenant_id and a > after)[:limit]


class FakeSchedules(Repository):
    async def try_lock(self, job: str) -> bool:
        return True

    async def claim_run(self, job: str, period_key: str, tenant_id: str, now: datetime) -> bool:
        if (job, period_key, tenant_id) in self.s.schedule_runs:
            return False
        self.s.schedule_runs.add((job, period_key, tenant_id))
        return True
