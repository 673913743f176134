"""Which tenant's rows a database transaction may see: PostgreSQL row-level security.

Every table with a `tenant_id` column has a forced policy (see
`tangible_runtime.migrations.secure_tenant_tables`) that shows a transaction only the rows
of the tenant in its `tangible.tenant` setting, or every row when it is `*`; a transaction
that set nothing sees nothing. Sessions set it once per transaction (`after_begin`):

- in an HTTP request, the authenticated principal's tenant (`bind_tenant`, called by the
  credential dependency); a request that authenticated nobody gets no tenant (fails closed);
- outside requests (consumers, the outbox relay, schedulers and CLI tools, which process
  many tenants' batches), `*`;
- a unit of work given an explicit `tenant` uses that one.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from tangible_runtime.audit import SET_ACTOR_SQL, actor_settings, bind_actor, reset_actor

ALL_TENANTS = "*"
NO_TENANT = ""  # matches no row: what a request sees before (or without) authentication
SETTING = "tangible.tenant"
SESSION_KEY = "tangible.tenant"  # Session.info key of an explicit tenant (or `UNSCOPED`)
UNSCOPED = object()  # Session.info marker: this session touches no tenant table, set nothing

_tenant: ContextVar[str | None] = ContextVar("tangible_tenant", default=None)
# the audit log's actor settings travel in the same statement (see `tangible_runtime.audit`)
_SET = text(f"SELECT set_config('{SETTING}', :tenant, true), {SET_ACTOR_SQL}")


class TenantError(ValueError):
    """A tenant id that would widen a transaction's visibility (`*`) or is empty."""


def check_tenant_id(tenant_id: str) -> str:
    if not tenant_id or tenant_id == ALL_TENANTS:
        raise TenantError(f"{tenant_id!r} is not a tenant id")
    return tenant_id


def bind_tenant(tenant_id: str) -> None:
    """The rest of this request runs as `tenant_id` (set by the credential dependency)."""
    _tenant.set(check_tenant_id(tenant_id))


def current_tenant() -> str:
    """The tenant a transaction begun now would run as."""
    tenant = _tenant.get()
    return ALL_TENANTS if tenant is None else tenant


class TenantScopeMiddleware:
    """HTTP requests start with no tenant, so that one that reaches the database without an
    authenticated principal sees nothing; the previous value is restored afterwards."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _tenant.set(NO_TENANT)
        actor = bind_actor(None)  # bound by the credential dependency of an admin change
        try:
            await self.app(scope, receive, send)
        finally:
            reset_actor(actor)
            _tenant.reset(token)


class TenantSession(Session):
    """A session whose every transaction first sets `tangible.tenant` (one statement)."""


@event.listens_for(TenantSession, "after_begin")
def _set_tenant(session: Session, _transaction: Any, connection: Any) -> None:
    tenant = session.info.get(SESSION_KEY)
    if tenant is UNSCOPED:
        return
    connection.execute(_SET, {"tenant": current_tenant() if tenant is None else tenant, **actor_settings()})
