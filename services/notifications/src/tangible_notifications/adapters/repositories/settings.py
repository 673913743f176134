"""Templates, tenant settings, preferences and the accounts notifications has heard of."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import delete, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_notifications.adapters import tables as t
from tangible_notifications.domain.model import Channel, Preference, QuietHours, Template, TenantSettings
from tangible_notifications.domain.records import StoredTemplate


class TemplateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def put(
        self, tenant_id: str, event_type: str, channel: str, template: Template, now: datetime
    ) -> None:
        values = {"title": template.title, "body": template.body, "html": template.html, "updated_at": now}
        statement = insert(t.templates).values(
            tenant_id=tenant_id, event_type=event_type, channel=channel, **values
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "event_type", "channel"], set_=values
            )
        )

    async def delete(self, tenant_id: str, event_type: str, channel: str) -> bool:
        result = await self._session.execute(
            delete(t.templates)
            .where(
                t.templates.c.tenant_id == tenant_id,
                t.templates.c.event_type == event_type,
                t.templates.c.channel == channel,
            )
            .returning(t.templates.c.tenant_id)
        )
        return result.first() is not None

    async def page(self, tenant_id: str, *, limit: int, offset: int) -> list[StoredTemplate]:
        query = (
            select(t.templates)
            .where(t.templates.c.tenant_id == tenant_id)
            .order_by(t.templates.c.event_type, t.templates.c.channel)
            .limit(limit)
            .offset(offset)
        )
        return [
            StoredTemplate(r["event_type"], r["channel"], r["title"], r["body"], r["html"])
            for r in (await self._session.execute(query)).mappings()
        ]

    async def for_tenants(self, tenant_ids: Iterable[str]) -> dict[str, dict[tuple[str, str], Template]]:
        query = select(t.templates).where(t.templates.c.tenant_id.in_(set(tenant_ids)))
        result: dict[str, dict[tuple[str, str], Template]] = {}
        for row in (await self._session.execute(query)).mappings():
            template = Template(row["title"], row["body"], row["html"])
            result.setdefault(row["tenant_id"], {})[(row["event_type"], row["channel"])] = template
        return result


def _settings(row: RowMapping | None) -> TenantSettings:
    if row is None:
        return TenantSettings()
    return TenantSettings(
        inbox_enabled=row["inbox_enabled"],
        quarterly_summary=row["quarterly_summary"],
        quarterly_channels=tuple(Channel(c) for c in row["quarterly_channels"]),
        digest_hour=row["digest_hour"],
    )


class TenantSettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, tenant_id: str) -> TenantSettings:
        query = select(t.tenant_settings).where(t.tenant_settings.c.tenant_id == tenant_id)
        return _settings((await self._session.execute(query)).mappings().first())

    async def for_tenants(self, tenant_ids: Iterable[str]) -> dict[str, TenantSettings]:
        wanted = set(tenant_ids)
        query = select(t.tenant_settings).where(t.tenant_settings.c.tenant_id.in_(wanted))
        found = {r["tenant_id"]: _settings(r) for r in (await self._session.execute(query)).mappings()}
        return {tenant: found.get(tenant, TenantSettings()) for tenant in wanted}

    async def put(self, tenant_id: str, settings: TenantSettings) -> None:
        values = {
            "inbox_enabled": settings.inbox_enabled,
            "quarterly_summary": settings.quarterly_summary,
            "quarterly_channels": [c.value for c in settings.quarterly_channels],
            "digest_hour": settings.digest_hour,
        }
        statement = insert(t.tenant_settings).values(tenant_id=tenant_id, **values)
        await self._session.execute(
            statement.on_conflict_do_update(index_elements=["tenant_id"], set_=values)
        )

    async def quarterly_tenants(self) -> list[str]:
        query = select(t.tenant_settings.c.tenant_id).where(t.tenant_settings.c.quarterly_summary.is_(True))
        return list((await self._session.execute(query)).scalars())


def preference_from_row(row: RowMapping) -> Preference:
    quiet = None
    if row["quiet_start"] is not None and row["quiet_end"] is not None:
        quiet = QuietHours(row["quiet_start"], row["quiet_end"])
    return Preference(
        account_id=row["account_id"],
        user_id=row["user_id"] or None,
        email=row["email"],
        timezone=row["timezone"],
        quiet_hours=quiet,
        channels=dict(row["channels"] or {}),
        locale=row.get("locale"),
    )


class PreferenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def put(self, tenant_id: str, preference: Preference) -> None:
        values = {
            "email": preference.email,
            "timezone": preference.timezone,
            "quiet_start": preference.quiet_hours.start if preference.quiet_hours else None,
            "quiet_end": preference.quiet_hours.end if preference.quiet_hours else None,
            "channels": preference.channels,
            "locale": preference.locale,
        }
        statement = insert(t.preferences).values(
            tenant_id=tenant_id, account_id=preference.account_id, user_id=preference.user_id or "", **values
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "account_id", "user_id"], set_=values
            )
        )

    async def get(self, tenant_id: str, account_id: str, user_id: str | None) -> Preference | None:
        p = t.preferences.c
        query = select(t.preferences).where(
            p.tenant_id == tenant_id, p.account_id == account_id, p.user_id == (user_id or "")
        )
        row = (await self._session.execute(query)).mappings().first()
        return preference_from_row(row) if row else None

    async def for_accounts(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Preference]]:
        wanted = list(set(keys))
        if not wanted:
            return {}
        p = t.preferences.c
        query = select(t.preferences).where(tuple_(p.tenant_id, p.account_id).in_(wanted))
        result: dict[tuple[str, str], list[Preference]] = {}
        for row in (await self._session.execute(query)).mappings():
            result.setdefault((row["tenant_id"], row["account_id"]), []).append(preference_from_row(row))
        return result


def _latest(a: date | None, b: date | None) -> date | None:
    return max(a, b) if a is not None and b is not None else a or b


_ACCOUNT_ROWS = """
    INSERT INTO accounts (tenant_id, account_id, license_id, term_start, term_end)
    SELECT * FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:licenses AS text[]),
                         CAST(:starts AS date[]), CAST(:ends AS date[]))
"""
_REMEMBER_TERMS = text(
    _ACCOUNT_ROWS
    + """
    ON CONFLICT (tenant_id, account_id) DO UPDATE SET
        license_id = COALESCE(EXCLUDED.license_id, accounts.license_id),
        term_start = GREATEST(EXCLUDED.term_start, accounts.term_start),
        term_end = GREATEST(EXCLUDED.term_end, accounts.term_end)
    """
)
_REMEMBER_ACCOUNTS = text(_ACCOUNT_ROWS + "ON CONFLICT (tenant_id, account_id) DO NOTHING")


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def remember(self, rows: Sequence[tuple[str, str, str | None, date | None, date | None]]) -> None:
        """Upsert (tenant, account, license, term start, term end); terms only move forward."""
        merged: dict[tuple[str, str], tuple[str, str, str | None, date | None, date | None]] = {}
        for row in rows:  # one row per key: ON CONFLICT may not touch a row twice
            prev = merged.get((row[0], row[1]))
            if prev is not None:
                row = (row[0], row[1], row[2] or prev[2], _latest(row[3], prev[3]), _latest(row[4], prev[4]))
            merged[(row[0], row[1])] = row
        # A row without a term changes nothing in an existing one: inserted only if new, so
        # that the common event locks and rewrites no account row (concurrent batches about
        # the same accounts then do not wait for each other).
        for statement, chosen in (
            (_REMEMBER_TERMS, [r for r in merged.values() if r[2:] != (None, None, None)]),
            (_REMEMBER_ACCOUNTS, [r for r in merged.values() if r[2:] == (None, None, None)]),
        ):
            if chosen:
                await self._session.execute(
                    statement,
                    {
                        "tenants": [r[0] for r in chosen],
                        "accounts": [r[1] for r in chosen],
                        "licenses": [r[2] for r in chosen],
                        "starts": [r[3] for r in chosen],
                        "ends": [r[4] for r in chosen],
                    },
                )

    async def term_start(self, tenant_id: str, account_id: str) -> date | None:
        a = t.accounts.c
        query = select(a.term_start).where(a.tenant_id == tenant_id, a.account_id == account_id)
        return (await self._session.execute(query)).scalar_one_or_none()

    async def page(self, tenant_id: str, after: str, limit: int) -> list[str]:
        a = t.accounts.c
        query = (
            select(a.account_id)
            .where(a.tenant_id == tenant_id, a.account_id > after)
            .order_by(a.account_id)
            .limit(limit)
        )
        return list((await self._session.execute(query)).scalars())
