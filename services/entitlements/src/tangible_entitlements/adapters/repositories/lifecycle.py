"""Tenant lifecycle settings, renewal notices and signal marks. Never commits.

Renewal notices and signal marks are the "once" of scheduled events: a row per (license,
term, lead time) or per piece of evidence, inserted with ON CONFLICT DO NOTHING in the
transaction that writes the event, so replicas racing on the same notice emit it once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.adapters.repositories.rows import from_row
from tangible_entitlements.domain.model import ACCESS_STATUSES
from tangible_entitlements.domain.policy import LifecyclePolicy
from tangible_entitlements.domain.signals import MarkKey
from tangible_entitlements.service_layer.reads import FullSeats, LicenseRef, PeriodCounter, RenewalNotice

_DUE_RENEWALS = text(
    """
    WITH due AS (
        SELECT l.tenant_id, l.id AS license_id, l.account_id, l.term_start, l.term_end, lead.days,
               l.term_end - lead.days AS due_on,
               (CAST(:now AS timestamptz) AT TIME ZONE l.timezone)::date AS today
        FROM licenses l
        LEFT JOIN tenant_settings s ON s.tenant_id = l.tenant_id
        CROSS JOIN LATERAL (
            SELECT CAST(d AS int) AS days
            FROM jsonb_array_elements_text(coalesce(s.lifecycle -> 'renewal_lead_days', CAST(:leads AS jsonb))) d
        ) lead
        WHERE l.status = ANY(CAST(:statuses AS text[]))
    )
    INSERT INTO renewal_notices AS n
        (tenant_id, license_id, term_end, lead_days, account_id, due_on, announced_at, late)
    SELECT tenant_id, license_id, term_end, days, account_id, due_on, :now, today > due_on
    FROM due
    WHERE due_on <= today AND term_end > today AND due_on >= term_start
      AND NOT EXISTS (SELECT 1 FROM renewal_notices x
                      WHERE x.tenant_id = due.tenant_id AND x.license_id = due.license_id
                        AND x.term_end = due.term_end AND x.lead_days = due.days)
    ORDER BY due_on LIMIT :n
    ON CONFLICT DO NOTHING
    RETURNING tenant_id, account_id, license_id, term_end, lead_days, late
    """
)


class PolicyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, tenant_id: str) -> LifecyclePolicy:
        return (await self.get_many([tenant_id]))[tenant_id]

    async def get_many(self, tenant_ids: Iterable[str]) -> dict[str, LifecyclePolicy]:
        tenants = sorted(set(tenant_ids))
        rows = await self._session.execute(
            text(
                "SELECT tenant_id, lifecycle FROM tenant_settings WHERE tenant_id = ANY(CAST(:t AS text[]))"
            ),
            {"t": tenants},
        )
        stored = {r.tenant_id: r.lifecycle for r in rows}
        return {tenant: LifecyclePolicy.from_json(stored.get(tenant)) for tenant in tenants}

    async def save(self, tenant_id: str, policy: LifecyclePolicy) -> None:
        await self._session.execute(
            text(
                "INSERT INTO tenant_settings (tenant_id, lifecycle) VALUES (:t, CAST(:p AS jsonb)) "
                "ON CONFLICT (tenant_id) DO UPDATE SET lifecycle = EXCLUDED.lifecycle, updated_at = now()"
            ),
            {"t": tenant_id, "p": json.dumps(policy.to_json())},
        )


class RenewalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim_due(self, now: datetime, default_leads: Sequence[int], limit: int) -> list[RenewalNotice]:
        """Lead times that have fallen due (in each license's time zone) and were never
        announced for this term, recorded here; late when their day has passed."""
        rows = await self._session.execute(
            _DUE_RENEWALS,
            {
                "now": now,
                "leads": json.dumps(list(default_leads)),
                "statuses": list(ACCESS_STATUSES),
                "n": limit,
            },
        )
        return [from_row(RenewalNotice, r) for r in rows.mappings()]


class SignalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def counters_near_limit(self, now: datetime, default_percent: float) -> list[PeriodCounter]:
        """Counters of the current periods at or past their tenant's near-limit mark, or over
        a soft limit (the stored limit is the one in force when usage last moved)."""
        rows = await self._session.execute(
            text(
                """
                SELECT c.tenant_id, c.account_id, c.feature_key, c.period_start, c.period_end,
                       c.value, c.limit_value, c.overage
                FROM usage_counters c LEFT JOIN tenant_settings s ON s.tenant_id = c.tenant_id
                WHERE c.limit_value > 0 AND c.period_start <= :now
                  AND (c.period_end IS NULL OR c.period_end > :now)
                  AND (c.overage > 0 OR c.value >= c.limit_value * coalesce(
                        (s.lifecycle ->> 'upgrade_near_limit_percent')::float, :pct) / 100)
                ORDER BY c.tenant_id, c.account_id, c.feature_key
                """
            ),
            {"now": now, "pct": default_percent},
        )
        return [_counter(r) for r in rows.mappings()]

    async def previous_periods(
        self, keys: Sequence[tuple[str, str, str, datetime]]
    ) -> dict[tuple[str, str, str, datetime], PeriodCounter]:
        """The counter of the period that ended when each given one started."""
        if not keys:
            return {}
        rows = await self._session.execute(
            text(
                """
                SELECT c.tenant_id, c.account_id, c.feature_key, c.period_start, c.period_end, c.value,
                       c.limit_value
                FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:features AS text[]),
                            CAST(:ends AS timestamptz[])) AS k(tenant_id, account_id, feature_key, period_end)
                JOIN usage_counters c USING (tenant_id, account_id, feature_key, period_end)
                """
            ),
            {
                "tenants": [k[0] for k in keys],
                "accounts": [k[1] for k in keys],
                "features": [k[2] for k in keys],
                "ends": [k[3] for k in keys],
            },
        )
        return {
            (r.tenant_id, r.account_id, r.feature_key, r.period_end): _counter(r) for r in rows.mappings()
        }

    async def seats_full(self) -> list[FullSeats]:
        """Licenses with access whose every purchased seat is assigned."""
        rows = await self._session.execute(
            text(
                """
                SELECT l.tenant_id, l.account_id, l.id AS license_id, l.seats, s.n AS assigned
                FROM licenses l
                JOIN (SELECT tenant_id, license_id, count(*) AS n FROM seat_assignments GROUP BY 1, 2) s
                    ON s.tenant_id = l.tenant_id AND s.license_id = l.id
                WHERE l.status = ANY(CAST(:statuses AS text[])) AND l.seats > 0 AND s.n >= l.seats
                """
            ),
            {"statuses": list(ACCESS_STATUSES)},
        )
        return [from_row(FullSeats, r) for r in rows.mappings()]

    async def renewing_within(self, now: datetime, default_days: int) -> list[LicenseRef]:
        """Licenses with access whose renewal is within their tenant's at-risk window."""
        rows = await self._session.execute(
            text(
                """
                SELECT l.tenant_id, l.account_id, l.id AS license_id
                FROM licenses l LEFT JOIN tenant_settings s ON s.tenant_id = l.tenant_id
                CROSS JOIN LATERAL (SELECT (CAST(:now AS timestamptz) AT TIME ZONE l.timezone)::date AS today) d
                WHERE l.status = ANY(CAST(:statuses AS text[])) AND l.term_end > d.today
                  AND l.term_end - coalesce((s.lifecycle ->> 'risk_window_days')::int, :days) <= d.today
                ORDER BY l.tenant_id, l.account_id
                """
            ),
            {"now": now, "days": default_days, "statuses": list(ACCESS_STATUSES)},
        )
        return [from_row(LicenseRef, r) for r in rows.mappings()]

    async def upgrade_suggestions(
        self, tenant_id: str, account_id: str
    ) -> list[tuple[datetime, dict[str, Any]]]:
        """The account's upgrade suggestions that were emitted (payload: the event), newest first."""
        rows = await self._session.execute(
            text(
                """
                SELECT created_at, payload FROM signal_marks
                WHERE tenant_id = :t AND account_id = :a AND signal = 'upgrade' AND payload IS NOT NULL
                ORDER BY created_at DESC, evidence_key
                """
            ),
            {"t": tenant_id, "a": account_id},
        )
        return [(r.created_at, dict(r.payload)) for r in rows]

    async def last_upgrades(self, tenant_id: str, account_id: str) -> dict[str, datetime]:
        """When each of the account's licenses last changed plan (now or at renewal), gained an
        add-on, or converted a trial: what supersedes a suggestion made before it."""
        rows = await self._session.execute(
            text(
                """
                SELECT license_id, max(at) AS at FROM license_history
                WHERE tenant_id = :t AND account_id = :a AND license_id IS NOT NULL
                  AND (action LIKE 'plan\\_changed%' OR action IN ('addon_added', 'trial_converted'))
                GROUP BY license_id
                """
            ),
            {"t": tenant_id, "a": account_id},
        )
        return {r.license_id: r.at for r in rows}

    async def marked(self, keys: Sequence[MarkKey]) -> set[MarkKey]:
        if not keys:
            return set()
        rows = await self._session.execute(
            text(
                """
                SELECT m.tenant_id, m.account_id, m.signal, m.evidence_key
                FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:signals AS text[]),
                            CAST(:keys AS text[])) AS k(tenant_id, account_id, signal, evidence_key)
                JOIN signal_marks m USING (tenant_id, account_id, signal, evidence_key)
                """
            ),
            _columns(keys),
        )
        return {(r.tenant_id, r.account_id, r.signal, r.evidence_key) for r in rows}

    async def mark(
        self, marks: Sequence[tuple[MarkKey, dict[str, Any] | None]], now: datetime
    ) -> set[MarkKey]:
        """Record evidence as considered; returns the keys that are new (emit only those)."""
        if not marks:
            return set()
        rows = await self._session.execute(
            text(
                """
                INSERT INTO signal_marks (tenant_id, account_id, signal, evidence_key, created_at, payload)
                SELECT k.tenant_id, k.account_id, k.signal, k.evidence_key, :now, CAST(k.payload AS jsonb)
                FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[]), CAST(:signals AS text[]),
                            CAST(:keys AS text[]), CAST(:payloads AS text[]))
                    AS k(tenant_id, account_id, signal, evidence_key, payload)
                ON CONFLICT DO NOTHING
                RETURNING tenant_id, account_id, signal, evidence_key
                """
            ),
            {
                **_columns([k for k, _ in marks]),
                "payloads": [json.dumps(p, default=str) if p is not None else None for _, p in marks],
                "now": now,
            },
        )
        return {(r.tenant_id, r.account_id, r.signal, r.evidence_key) for r in rows}


def _counter(row: RowMapping) -> PeriodCounter:
    limit = row["limit_value"]
    return from_row(
        PeriodCounter,
        row,
        value=float(row["value"]),
        limit_value=float(limit) if limit is not None else None,
        overage=float(row.get("overage") or 0),
    )


def _columns(keys: Sequence[MarkKey]) -> dict[str, list[str]]:
    return {
        "tenants": [k[0] for k in keys],
        "accounts": [k[1] for k in keys],
        "signals": [k[2] for k in keys],
        "keys": [k[3] for k in keys],
    }
