"""A sample report for template previews: invented figures, dated from the clock, so a
vendor sees every section of its template without a customer's data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from tangible_notifications.domain.periods import last_complete_quarter
from tangible_notifications.domain.report import (
    Expiring,
    FeatureLine,
    ImpactReport,
    Milestone,
    RewardEarned,
    Seats,
    ValueLine,
)


def sample_report(now: datetime) -> ImpactReport:
    period = last_complete_quarter(now.date())
    weeks = [period.start + timedelta(weeks=i) for i in range(13)]
    reports = tuple((day, 30.0 + 3 * i) for i, day in enumerate(weeks))
    exports = tuple((day, 10.0 + (i % 4)) for i, day in enumerate(weeks))
    total = sum(v for _, v in reports)
    months = [
        date(
            period.start.year - (1 if period.start.month - i < 1 else 0),
            (period.start.month - i - 1) % 12 + 1,
            1,
        )
        for i in range(9, -3, -1)
    ]
    return ImpactReport(
        account_id="acct-sample",
        period=period,
        generated_at=now,
        features=(
            FeatureLine(
                "reports",
                "Reports",
                "time saved",
                total,
                384.0,
                301.0,
                reports,
                "hours saved",
                total / 4,
                96.0,
                80.0,
                "growth",
            ),
            FeatureLine("exports", "Exports", "", sum(v for _, v in exports), 150.0, None, exports),
        ),
        value=(ValueLine("hours saved", total / 4, 96.0),),
        value_history=tuple((m, 60.0 + 5 * i) for i, m in enumerate(months)),
        seats=Seats(25, 22, 19),
        milestones=(
            Milestone("First report", "reached", 100.0, True),
            Milestone("Champion", "80 % to Champion", 80.0, False),
        ),
        rewards=(
            RewardEarned(
                "First report",
                Decimal(100),
                datetime.combine(period.start, datetime.min.time(), now.tzinfo) + timedelta(days=3),
            ),
        ),
        credits_granted=Decimal(100),
        balance=Decimal(250),
        expiring=(Expiring(Decimal(50), now + timedelta(days=30)),),
        unused=("API access",),
    )
