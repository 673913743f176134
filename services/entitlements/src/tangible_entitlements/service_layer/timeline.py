"""An account's answers now and at each moment they will change by themselves.

Grants start and expire, trials end and metered periods roll over without any event. The
SDKs evaluate `?at=` locally from this: segment i holds from its start until the next
segment's start; past the horizon the SDK re-reads the account. Each segment is computed by
the same check as the HTTP API, so both agree at every moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tangible_entitlements.service_layer.checks import CheckResult
from tangible_entitlements.service_layer.live_view import LiveView

HORIZON = timedelta(days=1)
MAX_SEGMENTS = 16


@dataclass(frozen=True)
class Segment:
    start: datetime
    results: list[CheckResult]


@dataclass(frozen=True)
class Timeline:
    account_id: str
    segments: list[Segment]
    valid_until: datetime  # re-read the account after this


def _boundaries(
    view: LiveView, tenant_id: str, account_id: str, at: datetime, results: list[CheckResult]
) -> set[datetime]:
    """Moments after `at` when an answer may change without an event."""
    found: set[datetime] = set()
    for result in results:
        if result.period_end is not None:
            found.add(result.period_end)
        found.update(s.expires_at for s in result.entitlement.sources if s.expires_at is not None)
    for grant in view.grants.get((tenant_id, account_id), []):
        found.add(grant.starts_at)
        if grant.expires_at is not None:
            found.add(grant.expires_at)
    license = view.licenses.get((tenant_id, account_id))
    if license is not None:
        found.update(trial.ends_at for trial in license.trials)
    return {b for b in found if b > at}


def timeline(
    view: LiveView,
    tenant_id: str,
    account_id: str,
    now: datetime,
    *,
    horizon: timedelta = HORIZON,
    max_segments: int = MAX_SEGMENTS,
) -> Timeline:
    """Raises LicenseNotFound for an account without a license."""
    end = now + horizon
    at = now
    segments: list[Segment] = []
    while True:
        results = view.check(tenant_id, account_id, at=at)
        segments.append(Segment(at, results))
        upcoming = sorted(b for b in _boundaries(view, tenant_id, account_id, at, results) if b < end)
        if not upcoming or len(segments) >= max_segments:
            valid_until = end if not upcoming else upcoming[0]
            return Timeline(account_id, segments, valid_until)
        at = upcoming[0]
