"""Base unit of work: one session, its outbox; rolls back unless committed.

Services subclass it and bind their repositories in `bind`. Committing flushes the
outbox rows in the same transaction as the state change, then nudges the relay. Each
transaction runs as one tenant (row-level security, see `tangible_runtime.tenancy`).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_runtime.db import SessionFactory
from tangible_runtime.inbox import Inbox
from tangible_runtime.outbox import Outbox
from tangible_runtime.tenancy import SESSION_KEY, current_tenant


class SqlUnitOfWork:
    def __init__(
        self,
        session_factory: SessionFactory,
        *,
        outbox_table: Table,
        source: str,
        on_commit: Callable[[], None] | None = None,
        tenant: str | None = None,
    ) -> None:
        """`tenant`: the tenant whose rows the transaction may touch (`*` for all); by
        default the request's principal's, or all outside requests (see `tenancy`)."""
        self._session_factory = session_factory
        self._outbox_table = outbox_table
        self._source = source
        self._on_commit = on_commit
        self._tenant = tenant
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        assert self._session is not None, "use the unit of work in `async with`"
        return self._session

    def bind(self, session: AsyncSession) -> None:
        """Create the repositories on `session` (overridden by each service)."""

    async def __aenter__(self) -> Self:
        self._session = self._session_factory()
        self._session.info[SESSION_KEY] = self._tenant if self._tenant is not None else current_tenant()
        self.outbox = Outbox(self._outbox_table, self._source)
        self.bind(self._session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()
            self._session = None

    def inbox(self, consumer: str) -> Inbox:
        return Inbox(self.session, consumer)

    async def commit(self) -> None:
        published = self.outbox.pending
        await self.outbox.flush(self.session)
        await self.session.commit()
        if published and self._on_commit is not None:
            self._on_commit()
