"""The audit log: every change made through an admin route, in the transaction of the change.

A request authenticated with an admin credential on a mutating method binds an `Actor`
(credential id and name, method, route template, the service clock's time); every
transaction the request begins sets them as transaction-local settings (`tangible.actor_id`
…, next to `tangible.tenant`, see `tangible_runtime.tenancy`). Row triggers on the audited
tables (installed by a migration with `track`) read them and write one `audit_log` row per
row changed, with the row before and after and the secret columns masked; outside admin
requests the settings are empty and the triggers write nothing. A change that is not a row
change (a token invalidated, a message published) is recorded with `record_action`.

The log lives in the database of the service that made the change, under the same
row-level security as the rest, and is read per tenant through `GET /v1/audit`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MASK = "***"
SETTINGS = (
    "tangible.actor_id",
    "tangible.actor_name",
    "tangible.method",
    "tangible.route",
    "tangible.audit_at",
)


@dataclass(frozen=True, slots=True)
class Actor:
    credential_id: str
    name: str | None
    method: str
    route: str
    at: datetime


_actor: ContextVar[Actor | None] = ContextVar("tangible_actor", default=None)


def bind_actor(actor: Actor | None) -> Token[Actor | None]:
    """The rest of this request's transactions are recorded as `actor`'s (None: not)."""
    return _actor.set(actor)


def reset_actor(token: Token[Actor | None]) -> None:
    _actor.reset(token)


def current_actor() -> Actor | None:
    return _actor.get()


def actor_settings() -> dict[str, str]:
    """The transaction-local settings the triggers read; empty strings outside admin changes."""
    actor = _actor.get()
    if actor is None:
        return {"actor_id": "", "actor_name": "", "method": "", "route": "", "audit_at": ""}
    return {
        "actor_id": actor.credential_id,
        "actor_name": actor.name or "",
        "method": actor.method,
        "route": actor.route,
        "audit_at": actor.at.isoformat(),
    }


SET_ACTOR_SQL = ", ".join(f"set_config('{name}', :{name.split('.')[1]}, true)" for name in SETTINGS)

_INSERT = text(
    "INSERT INTO audit_log (tenant_id, at, actor_id, actor_name, method, route, table_name, "
    "operation, before, after) VALUES (current_setting('tangible.tenant', true), :at, :actor_id, "
    ":actor_name, :method, :route, :table_name, :operation, CAST(:before AS jsonb), CAST(:after AS jsonb))"
)


def mask(row: Mapping[str, Any] | None, secrets: Sequence[str]) -> dict[str, Any] | None:
    if row is None:
        return None
    return {key: (MASK if key in secrets and value is not None else value) for key, value in row.items()}


async def record_action(
    session: AsyncSession,
    operation: str,
    *,
    subject: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    secrets: Sequence[str] = (),
) -> bool:
    """Record a change that is not a row change (`subject` names what it acted on, in place
    of a table), in the session's transaction; nothing outside an admin request. Whether a
    row was written."""
    actor = _actor.get()
    if actor is None:
        return False
    await session.execute(
        _INSERT,
        {
            "at": actor.at,
            "actor_id": actor.credential_id,
            "actor_name": actor.name,
            "method": actor.method,
            "route": actor.route,
            "table_name": subject,
            "operation": operation,
            "before": _json(mask(before, secrets)),
            "after": _json(mask(after, secrets)),
        },
    )
    return True


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, default=str)
