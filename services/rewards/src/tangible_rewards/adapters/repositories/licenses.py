"""Licenses and seats as rewards sees them (from entitlements' events, never its database)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_rewards.domain.licenses import GRANTING, LicenseState

_COLUMNS = "tenant_id, account_id, license_id, status, started_on, term_end, continuous_since, years_seen"


def _state(r: Row[tuple[object, ...]]) -> LicenseState:
    m = r._mapping
    return LicenseState(
        m["tenant_id"],
        m["account_id"],
        m["license_id"],
        m["status"],
        m["started_on"],
        m["term_end"],
        m["continuous_since"],
        m["years_seen"],
    )


class LicenseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], LicenseState]:
        """By (tenant, license id)."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        rows = await self._session.execute(
            text(
                f"""
                SELECT {_COLUMNS} FROM licenses l
                JOIN unnest(CAST(:tenants AS text[]), CAST(:ids AS text[])) AS k(t, i)
                  ON l.tenant_id = k.t AND l.license_id = k.i
                """
            ),
            {"tenants": [k[0] for k in wanted], "ids": [k[1] for k in wanted]},
        )
        return {(r.tenant_id, r.license_id): _state(r) for r in rows}

    async def upsert(self, states: Sequence[LicenseState]) -> None:
        if not states:
            return
        await self._session.execute(
            text(
                f"""
                INSERT INTO licenses AS l ({_COLUMNS})
                SELECT * FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:ids AS text[]),
                                     CAST(:statuses AS text[]), CAST(:started AS date[]), CAST(:ends AS date[]),
                                     CAST(:since AS date[]), CAST(:seen AS int[]))
                ON CONFLICT (tenant_id, license_id) DO UPDATE SET
                  status = EXCLUDED.status, term_end = EXCLUDED.term_end,
                  continuous_since = EXCLUDED.continuous_since, years_seen = EXCLUDED.years_seen,
                  updated_at = now()
                """
            ),
            {
                "tenants": [s.tenant_id for s in states],
                "accounts": [s.account_id for s in states],
                "ids": [s.license_id for s in states],
                "statuses": [s.status for s in states],
                "started": [s.started_on for s in states],
                "ends": [s.term_end for s in states],
                "since": [s.continuous_since for s in states],
                "seen": [s.years_seen for s in states],
            },
        )

    async def for_accounts(
        self, accounts: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[LicenseState]]:
        pairs = sorted(set(accounts))
        result: dict[tuple[str, str], list[LicenseState]] = {p: [] for p in pairs}
        if not pairs:
            return result
        rows = await self._session.execute(
            text(
                f"""
                SELECT {_COLUMNS} FROM licenses l
                JOIN unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[])) AS k(t, a)
                  ON l.tenant_id = k.t AND l.account_id = k.a
                ORDER BY l.started_on
                """
            ),
            {"tenants": [p[0] for p in pairs], "accounts": [p[1] for p in pairs]},
        )
        for r in rows:
            result[(r.tenant_id, r.account_id)].append(_state(r))
        return result

    async def assign_seats(self, seats: Sequence[tuple[str, str, str, str]]) -> None:
        """(tenant, account, license, user) rows; assigning twice is a no-op."""
        if not seats:
            return
        await self._session.execute(
            text(
                """
                INSERT INTO seats (tenant_id, account_id, license_id, user_id)
                SELECT * FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]),
                                     CAST(:licenses AS text[]), CAST(:users AS text[]))
                ON CONFLICT DO NOTHING
                """
            ),
            {
                "tenants": [s[0] for s in seats],
                "accounts": [s[1] for s in seats],
                "licenses": [s[2] for s in seats],
                "users": [s[3] for s in seats],
            },
        )

    async def unassign_seats(self, seats: Sequence[tuple[str, str, str]]) -> None:
        """(tenant, license, user) rows."""
        if not seats:
            return
        await self._session.execute(
            text(
                """
                DELETE FROM seats s USING unnest(CAST(:tenants AS text[]), CAST(:licenses AS text[]),
                                                 CAST(:users AS text[])) AS k(t, l, u)
                WHERE s.tenant_id = k.t AND s.license_id = k.l AND s.user_id = k.u
                """
            ),
            {
                "tenants": [s[0] for s in seats],
                "licenses": [s[1] for s in seats],
                "users": [s[2] for s in seats],
            },
        )

    async def anniversaries_due(
        self, latest_day: date, after: tuple[str, str], limit: int
    ) -> list[LicenseState]:
        """Granting licenses whose next unseen anniversary falls on or before `latest_day`
        (locked; another replica skips them). Keyset-paged by (tenant, license)."""
        rows = await self._session.execute(
            text(
                f"""
                SELECT {_COLUMNS} FROM licenses
                WHERE status = ANY(:granting) AND (tenant_id, license_id) > (:t, :l)
                  AND continuous_since + make_interval(years => years_seen + 1) <= :day
                ORDER BY tenant_id, license_id LIMIT :limit FOR UPDATE SKIP LOCKED
                """
            ),
            {"granting": sorted(GRANTING), "t": after[0], "l": after[1], "day": latest_day, "limit": limit},
        )
        return [_state(r) for r in rows]

    async def rewind_anniversaries(self, tenant_id: str) -> None:
        """A new or changed anniversary rule: every license is evaluated again."""
        await self._session.execute(
            text("UPDATE licenses SET years_seen = 0 WHERE tenant_id = :t AND years_seen > 0"),
            {"t": tenant_id},
        )
