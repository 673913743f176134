"""Unit of work: one transaction; rolls back unless committed.

A lost or unreachable database surfaces as `StoreUnavailable` (a 503 the producer
retries), never as an unexpected error.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncSession

from tangible_ingest.adapters.repository import DedupRepository, Observe, no_timing
from tangible_ingest.domain.errors import StoreUnavailable
from tangible_runtime.db import SessionFactory
from tangible_runtime.tenancy import SESSION_KEY, UNSCOPED


class UnitOfWork:
    dedup: DedupRepository

    def __init__(self, session_factory: SessionFactory, observe: Observe = no_timing) -> None:
        self._session_factory = session_factory
        self._observe = observe
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> UnitOfWork:
        # dedup keys are hashes with no tenant column: nothing for row-level security to scope
        self._session = self._session_factory(info={SESSION_KEY: UNSCOPED})
        self.dedup = DedupRepository(self._session, self._observe)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc_value: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._session is not None
        try:
            await self._session.rollback()
        except (exc.DBAPIError, exc.TimeoutError, OSError):
            pass  # the connection is gone: so is the transaction
        finally:
            await self._session.close()
            self._session = None
        if _unreachable(exc_value):
            raise StoreUnavailable(
                f"the dedup store is unavailable: {type(exc_value).__name__}"
            ) from exc_value

    async def commit(self) -> None:
        assert self._session is not None
        await self._session.commit()


def _unreachable(error: BaseException | None) -> bool:
    if isinstance(error, exc.DBAPIError):
        return error.connection_invalidated or isinstance(error, exc.OperationalError | exc.InterfaceError)
    return isinstance(error, exc.TimeoutError | OSError)
