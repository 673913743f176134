"""Unit of work: one transaction; rolls back unless committed."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession

from tangible_ingest.adapters.repository import DedupRepository, Observe, no_timing
from tangible_runtime.db import SessionFactory


class UnitOfWork:
    dedup: DedupRepository

    def __init__(self, session_factory: SessionFactory, observe: Observe = no_timing) -> None:
        self._session_factory = session_factory
        self._observe = observe
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._session_factory()
        self.dedup = DedupRepository(self._session, self._observe)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._session is not None
        try:
            await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    async def commit(self) -> None:
        assert self._session is not None
        await self._session.commit()
