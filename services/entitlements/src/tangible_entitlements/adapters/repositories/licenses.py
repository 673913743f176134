"""License rows, their history and seat assignments ↔ domain objects. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.adapters import tables as t
from tangible_entitlements.domain.licensing import overlay_from_json, overlay_to_json
from tangible_entitlements.domain.model import License, LicenseStatus

AccountKey = tuple[str, str]

_CURRENT = """
    SELECT DISTINCT ON (l.tenant_id, l.account_id) l.*
    FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[])) AS k(tenant_id, account_id)
    JOIN licenses l ON l.tenant_id = k.tenant_id AND l.account_id = k.account_id
    ORDER BY l.tenant_id, l.account_id, l.created_at DESC
"""


def license_from_row(row: RowMapping) -> License:
    return License(
        id=row["id"],
        tenant_id=row["tenant_id"],
        account_id=row["account_id"],
        plan_key=row["plan_key"],
        plan_version=row["plan_version"],
        status=LicenseStatus(row["status"]),
        term_start=row["term_start"],
        term_end=row["term_end"],
        seats=row["seats"],
        addons=dict(row["addons"]),
        timezone=row["timezone"],
        pending_plan_key=row["pending_plan_key"],
        pending_plan_version=row["pending_plan_version"],
        prior_state=row["prior_state"],
        status_changed_at=row["status_changed_at"],
        trials=tuple(overlay_from_json(t) for t in row["trials"] or ()),
    )


def _values(license: License) -> dict[str, Any]:
    return {
        "plan_key": license.plan_key,
        "plan_version": license.plan_version,
        "addons": license.addons,
        "status": license.status.value,
        "term_start": license.term_start,
        "term_end": license.term_end,
        "seats": license.seats,
        "timezone": license.timezone,
        "pending_plan_key": license.pending_plan_key,
        "pending_plan_version": license.pending_plan_version,
        "prior_state": license.prior_state,
        "status_changed_at": license.status_changed_at,
        "trials": [overlay_to_json(t) for t in license.trials],
    }


class LicenseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, licenses: Sequence[License]) -> None:
        """One statement for the lot (an import brings a thousand)."""
        if licenses:
            await self._session.execute(
                insert(t.licenses),
                [
                    {"id": x.id, "tenant_id": x.tenant_id, "account_id": x.account_id, **_values(x)}
                    for x in licenses
                ],
            )

    async def save(self, license: License) -> None:
        await self._session.execute(
            update(t.licenses)
            .where(t.licenses.c.tenant_id == license.tenant_id, t.licenses.c.id == license.id)
            .values(**_values(license), updated_at=func.now())
        )

    async def get(self, tenant_id: str, license_id: str, *, for_update: bool = False) -> License | None:
        query = select(t.licenses).where(t.licenses.c.tenant_id == tenant_id, t.licenses.c.id == license_id)
        if for_update:  # serialises changes (and seat counts) of one license
            query = query.with_for_update()
        row = (await self._session.execute(query)).mappings().first()
        return license_from_row(row) if row else None

    async def for_account(self, tenant_id: str, account_id: str) -> License | None:
        found = await self.for_accounts([(tenant_id, account_id)])
        return found.get((tenant_id, account_id))

    async def for_accounts(self, keys: Sequence[AccountKey]) -> dict[AccountKey, License]:
        """The current license of each account (latest created), in one query."""
        if not keys:
            return {}
        rows = await self._session.execute(
            text(_CURRENT), {"tenants": [k[0] for k in keys], "accounts": [k[1] for k in keys]}
        )
        return {(r["tenant_id"], r["account_id"]): license_from_row(r) for r in rows.mappings()}

    async def current_all(self) -> dict[AccountKey, License]:
        """Every account's current license (a read replica's cold start)."""
        rows = await self._session.execute(
            text(
                "SELECT DISTINCT ON (tenant_id, account_id) * FROM licenses "
                "ORDER BY tenant_id, account_id, created_at DESC"
            )
        )
        return {(r["tenant_id"], r["account_id"]): license_from_row(r) for r in rows.mappings()}

    async def page_for_account(
        self, tenant_id: str, account_id: str, *, limit: int, offset: int
    ) -> tuple[list[License], int]:
        c = t.licenses.c
        where = (c.tenant_id == tenant_id, c.account_id == account_id)
        rows = await self._session.execute(
            select(t.licenses).where(*where).order_by(c.created_at.desc()).limit(limit).offset(offset)
        )
        total = await self._session.scalar(select(func.count()).select_from(t.licenses).where(*where))
        return [license_from_row(r) for r in rows.mappings()], int(total or 0)


class SeatRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def users(self, tenant_id: str, license_id: str) -> list[str]:
        c = t.seat_assignments.c
        rows = await self._session.execute(
            select(c.user_id).where(c.tenant_id == tenant_id, c.license_id == license_id).order_by(c.user_id)
        )
        return [r[0] for r in rows]

    async def assign(self, license: License, user_id: str, at: datetime) -> bool:
        """False when the user already holds a seat."""
        result = await self._session.execute(
            text(
                "INSERT INTO seat_assignments (tenant_id, license_id, user_id, account_id, assigned_at) "
                "VALUES (:t, :l, :u, :a, :at) ON CONFLICT DO NOTHING RETURNING user_id"
            ),
            {"t": license.tenant_id, "l": license.id, "u": user_id, "a": license.account_id, "at": at},
        )
        return result.first() is not None

    async def unassign(self, tenant_id: str, license_id: str, user_ids: Sequence[str]) -> int:
        c = t.seat_assignments.c
        result = await self._session.execute(
            delete(t.seat_assignments).where(
                c.tenant_id == tenant_id, c.license_id == license_id, c.user_id.in_(list(user_ids))
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def reassign(self, license: License, user_ids: Sequence[str], at: datetime) -> None:
        if user_ids:
            await self._session.execute(
                insert(t.seat_assignments),
                [
                    {
                        "tenant_id": license.tenant_id,
                        "license_id": license.id,
                        "user_id": u,
                        "account_id": license.account_id,
                        "assigned_at": at,
                    }
                    for u in user_ids
                ],
            )

    async def counts(self) -> dict[tuple[str, str], int]:
        """Assigned seats per (tenant, license) (a read replica's cold start)."""
        rows = await self._session.execute(
            text("SELECT tenant_id, license_id, count(*) AS n FROM seat_assignments GROUP BY 1, 2")
        )
        return {(r.tenant_id, r.license_id): int(r.n) for r in rows}

    async def allocation(
        self, tenant_id: str, license_id: str, account_id: str, active_since: datetime
    ) -> list[tuple[str, datetime | None, bool]]:
        """Each seat holder with their last activity and whether it is recent."""
        rows = await self._session.execute(
            text(
                """
                SELECT s.user_id, a.last_active_at, coalesce(a.last_active_at >= :since, false) AS active
                FROM seat_assignments s
                LEFT JOIN user_activity a
                    ON a.tenant_id = s.tenant_id AND a.account_id = :account AND a.user_id = s.user_id
                WHERE s.tenant_id = :t AND s.license_id = :l
                ORDER BY s.user_id
                """
            ),
            {"t": tenant_id, "l": license_id, "account": account_id, "since": active_since},
        )
        return [(r.user_id, r.last_active_at, bool(r.active)) for r in rows]
