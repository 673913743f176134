"""Async SQLAlchemy engine and sessions, built by the composition root (never at import)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from tangible_runtime.tenancy import TenantSession

SessionFactory = async_sessionmaker[AsyncSession]


def create_engine(url: str, *, pool_size: int = 10, pre_ping: bool = True) -> AsyncEngine:
    """`pre_ping` tests each connection on checkout: with asyncpg that is three round trips
    (BEGIN, an empty query, ROLLBACK); a hot path that maps connection errors to a retry
    may turn it off."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        connect_args={"server_settings": {"application_name": "tangible"}},
    )


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that set the transaction's tenant for row-level security (see `tenancy`)."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TenantSession)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
