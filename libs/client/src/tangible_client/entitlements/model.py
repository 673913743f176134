"""What a check answers: the HTTP API's fields, plus how fresh the answer is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Outage = Literal["stale", "default", "raise"]


class EntitlementsError(Exception):
    """Base of the SDK's errors."""


class EntitlementsUnavailable(EntitlementsError):
    """No answer could be given in time (and the outage mode says raise)."""


class AccountNotFound(EntitlementsError):
    """The account has no license."""


class FeatureNotFound(EntitlementsError):
    """The tenant's catalog has no such feature (or the credential does not cover it)."""


class CredentialRefused(EntitlementsError):
    """The credential was refused (expired, revoked, or not allowed these accounts)."""


@dataclass(frozen=True, slots=True)
class Source:
    kind: str  # plan | addon | trial | grant
    key: str
    version: int | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """One feature of one account. `stale`: served from the local view while it cannot be
    kept fresh (`as_of`: the last moment it was known to be current); `optimistic`: usage
    reported through this SDK is included before the server counted it; `default`: the
    configured default, no known value. Equal answers are one shared object (accounts on the
    same plan share theirs): the account is the one you asked about."""

    feature_key: str
    kind: str  # boolean | metered | seats | config
    has_access: bool
    limit: float | None
    usage: float
    remaining: float | None
    overage: float
    limit_type: str  # hard | soft
    period_start: datetime | None
    period_end: datetime | None
    config: Any
    sources: tuple[Source, ...]
    stale: bool = False
    as_of: datetime | None = None
    optimistic: bool = False
    default: bool = False


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def check_from_json(data: dict[str, Any]) -> Check:
    return Check(
        feature_key=data["feature_key"],
        kind=data["kind"],
        has_access=bool(data["has_access"]),
        limit=data.get("limit"),
        usage=float(data.get("usage") or 0.0),
        remaining=data.get("remaining"),
        overage=float(data.get("overage") or 0.0),
        limit_type=data.get("limit_type", "hard"),
        period_start=_time(data.get("period_start")),
        period_end=_time(data.get("period_end")),
        config=data.get("config"),
        sources=tuple(
            Source(s["kind"], s["key"], s.get("version"), _time(s.get("expires_at")))
            for s in data.get("sources", [])
        ),
    )


def default_check(feature_key: str, has_access: bool) -> Check:
    return Check(
        feature_key, "boolean", has_access, None, 0.0, None, 0.0, "hard",
        None, None, None, (), stale=True, default=True,
    )  # fmt: skip
