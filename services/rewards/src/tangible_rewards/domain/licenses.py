"""License continuity (for anniversaries) and the time-to-value window, from license events.

Continuity starts at the first term's start. Suspension and grace keep it; expiry or
revocation pauses it; a restore or reinstatement resumes it (the prior state comes back);
a renewal after a lapse starts it again from the new term. Anniversaries are granted only
while the license is active or in grace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from tangible_rewards.domain.model import AnniversaryParams, Repeat, TimeToValueParams
from tangible_rewards.domain.periods import completed_years

GRANTING = frozenset({"active", "grace"})
LAPSED = frozenset({"expired", "revoked"})


@dataclass(frozen=True)
class LicenseState:
    tenant_id: str
    account_id: str
    license_id: str
    status: str
    started_on: date
    term_end: date
    continuous_since: date
    years_seen: int = 0
    """Anniversaries already evaluated (the scheduler's cursor)."""


@dataclass(frozen=True)
class LicenseFact:
    """One license event, reduced to what rewards needs."""

    tenant_id: str
    account_id: str
    license_id: str
    kind: str  # created | renewed | status_changed
    status: str
    term_start: date | None = None
    term_end: date | None = None


def apply(state: LicenseState | None, fact: LicenseFact) -> LicenseState | None:
    if fact.kind == "created":
        assert fact.term_start is not None and fact.term_end is not None
        return LicenseState(
            fact.tenant_id,
            fact.account_id,
            fact.license_id,
            fact.status,
            started_on=fact.term_start,
            term_end=fact.term_end,
            continuous_since=fact.term_start,
        )
    if state is None:
        return None  # a change to a license we never saw created: nothing to continue
    if fact.kind == "renewed":
        assert fact.term_start is not None and fact.term_end is not None
        if state.status in LAPSED:
            return replace(
                state,
                status=fact.status,
                term_end=fact.term_end,
                continuous_since=fact.term_start,
                years_seen=0,
            )
        return replace(state, status=fact.status, term_end=fact.term_end)
    return replace(state, status=fact.status)


LicenseKey = tuple[str, str]  # tenant, license id


def fold_licenses(
    known: Mapping[LicenseKey, LicenseState], facts: Iterable[LicenseFact]
) -> dict[LicenseKey, LicenseState]:
    """States of every license the facts touch, after applying them in order."""
    states: dict[LicenseKey, LicenseState | None] = {}
    for fact in facts:
        key = (fact.tenant_id, fact.license_id)
        states[key] = apply(states[key] if key in states else known.get(key), fact)
    return {key: state for key, state in states.items() if state is not None}


def anniversary_qualifying(
    state: LicenseState, params: AnniversaryParams, repeat: Repeat, today: date
) -> str | None:
    """The anniversary ('year-N') this license qualifies for today, if any."""
    if state.status not in GRANTING:
        return None
    years = completed_years(state.continuous_since, today)
    if years < params.years:
        return None
    return f"year-{params.years if repeat is Repeat.ONCE else years}"


@dataclass(frozen=True)
class TimeToValue:
    current: float
    deadline: date
    """First local day after the window."""
    met_on: date | None = None
    """The local day the usage so far first reached the target (within the window), if it did."""


def time_to_value(state: LicenseState, params: TimeToValueParams, daily: Mapping[date, float]) -> TimeToValue:
    """Quantity of the usage within `days` days from the license's first day, and the day
    its running total met the target (what dates a window met by imported history)."""
    deadline = state.started_on + timedelta(days=params.days)
    total, met_on = 0.0, None
    for day in sorted(d for d in daily if state.started_on <= d < deadline):
        total += daily[day]
        if met_on is None and total >= params.target:
            met_on = day
    return TimeToValue(total, deadline, met_on)


def ttv_qualifying(state: LicenseState) -> str:
    return f"license-{state.license_id}"
