"""Reads behind reports and signals: daily rollups of many accounts, plan cohorts. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_entitlements.domain.model import ACCESS_STATUSES, Aggregation

AccountKey = tuple[str, str]

# how a range of days folds into one total, per aggregation (as reports.combine does)
_TOTAL = {
    Aggregation.MAX: "max(d.value)",
    Aggregation.LATEST: "(array_agg(d.value ORDER BY d.day DESC))[1]",
}


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def days_of(
        self, accounts: Sequence[AccountKey], start: date, end: date
    ) -> dict[AccountKey, dict[str, dict[date, float]]]:
        """Daily rollups of several accounts: account → feature → day → value."""
        result: dict[AccountKey, dict[str, dict[date, float]]] = {a: {} for a in accounts}
        if not accounts:
            return result
        rows = await self._session.execute(
            text(
                """
                SELECT d.tenant_id, d.account_id, d.feature_key, d.day, d.value
                FROM unnest(CAST(:tenants AS text[]), CAST(:accounts AS text[])) AS k(tenant_id, account_id)
                JOIN usage_daily d ON d.tenant_id = k.tenant_id AND d.account_id = k.account_id
                WHERE d.day BETWEEN :s AND :e
                ORDER BY d.day
                """
            ),
            {"tenants": [a[0] for a in accounts], "accounts": [a[1] for a in accounts], "s": start, "e": end},
        )
        for r in rows:
            result[(r.tenant_id, r.account_id)].setdefault(r.feature_key, {})[r.day] = float(r.value)
        return result

    async def cohort_distribution(
        self,
        tenant_id: str,
        plan_key: str,
        feature_key: str,
        aggregation: Aggregation,
        start: date,
        end: date,
    ) -> list[float]:
        """Every cohort member's total over the days: the cohort is the accounts whose current
        license, with access, is on `plan_key`. Only figures leave this function: no account's
        identity."""
        total = _TOTAL.get(aggregation, "sum(d.value)")
        rows = await self._session.execute(
            text(
                f"""
                WITH members AS (
                    SELECT account_id FROM (
                        SELECT DISTINCT ON (account_id) account_id, plan_key, status FROM licenses
                        WHERE tenant_id = :t ORDER BY account_id, created_at DESC
                    ) current
                    WHERE plan_key = :plan AND status = ANY(CAST(:statuses AS text[]))
                ),
                totals AS (
                    SELECT d.account_id, {total} AS total FROM usage_daily d
                    WHERE d.tenant_id = :t AND d.feature_key = :f AND d.day BETWEEN :s AND :e
                      AND d.account_id IN (SELECT account_id FROM members)
                    GROUP BY d.account_id
                )
                SELECT coalesce(totals.total, 0) AS total FROM members m LEFT JOIN totals USING (account_id)
                """
            ),
            {
                "t": tenant_id,
                "plan": plan_key,
                "f": feature_key,
                "s": start,
                "e": end,
                "statuses": list(ACCESS_STATUSES),
            },
        )
        return [float(r.total) for r in rows]
