"""Create databases on any PostgreSQL server (embedded, a container, or your own)."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    """The same server URL, pointing at another database (asyncpg driver)."""
    return (
        make_url(url)
        .set(drivername="postgresql+asyncpg", database=database)
        .render_as_string(hide_password=False)
    )


async def create_database(admin_url: str, name: str, *, template: str | None = None) -> None:
    connection = await asyncpg.connect(_dsn(admin_url))
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            suffix = f' TEMPLATE "{template}"' if template else ""
            await connection.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await connection.close()


async def drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(_dsn(admin_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


# The role services connect as, locally and in tests: it owns nothing, so the forced
# row-level security of every tenant table applies to it (production names its own role).
APP_ROLE = "tangible_app"
APP_PASSWORD = "tangible_app"  # local only: the embedded server trusts loopback anyway


async def ensure_app_role(admin_url: str, role: str = APP_ROLE, password: str = APP_PASSWORD) -> bool:
    """Create the login role if missing; False when this server does not let us (the services
    then connect as the owner, without the defence in depth)."""
    connection = await asyncpg.connect(_dsn(admin_url))
    try:
        if await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            return True
        quoted_password = password.replace("'", "''")
        await connection.execute(
            f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{quoted_password}' "
            "NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
        )
        return True
    except asyncpg.DuplicateObjectError:
        return True  # created concurrently
    except asyncpg.InsufficientPrivilegeError:
        return False
    finally:
        await connection.close()


def as_role(url: str, role: str = APP_ROLE, password: str = APP_PASSWORD) -> str:
    """The same database, connected to as `role`."""
    return make_url(url).set(username=role, password=password).render_as_string(hide_password=False)
