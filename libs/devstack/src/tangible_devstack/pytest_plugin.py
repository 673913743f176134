"""Pytest fixtures every test suite of the repository shares (loaded via `-p`)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from tangible_devstack.databases import (
    APP_ROLE,
    as_role,
    create_database,
    drop_database,
    ensure_app_role,
    with_database,
)
from tangible_devstack.infrastructure import Infrastructure, start_infrastructure
from tangible_runtime.auth import TokenIssuer, generate_keypair
from tangible_runtime.kafka import KafkaClients
from tangible_runtime.migrations import upgrade_async
from tangible_runtime.settings import AuthSettings, KafkaSettings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long(seconds)` first, longest first, the rest in their order: `make test`
    hands the suite out to pytest-xdist workers as they free up, and a long test handed out
    last would keep one worker busy for minutes while the others have nothing left to do."""

    def expected_seconds(item: pytest.Item) -> float:
        long = item.get_closest_marker("long")
        return float(long.args[0]) if long is not None else 0.0

    items.sort(key=expected_seconds, reverse=True)


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    # Not pytest's tmp_path: pytest prunes older sessions' folders, which would pull the data
    # directory from under a broker or database of a suite running in parallel.
    workdir = Path(tempfile.mkdtemp(prefix="tangible-test-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, True)
        infra = start_infrastructure(stack, workdir)
        print(f"\n[tangible] integration infrastructure: {infra.description}")
        yield infra


@pytest.fixture(scope="session")
def auth_keys() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture(scope="session")
def auth_settings(auth_keys: tuple[str, str]) -> AuthSettings:
    private, public = auth_keys
    return AuthSettings(public_key=SecretStr(public), private_key=SecretStr(private))


@pytest.fixture(scope="session")
def token_issuer(auth_keys: tuple[str, str]) -> TokenIssuer:
    return TokenIssuer(auth_keys[0], issuer="tangible")


class IssueToken(Protocol):
    def __call__(self, tenant_id: str, *scopes: str, account_id: str | None = None) -> str: ...


@pytest.fixture(scope="session")
def issue_token(token_issuer: TokenIssuer) -> IssueToken:
    def issue(tenant_id: str, *scopes: str, account_id: str | None = None) -> str:
        return token_issuer.issue(
            tenant_id=tenant_id, scopes=scopes or ("admin",), account_id=account_id
        ).token

    return issue


@pytest.fixture
def tenant_id() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def kafka_settings(infrastructure: Infrastructure) -> KafkaSettings:
    """A fresh topic prefix per test: its own topics and consumer groups."""
    settings = KafkaSettings(
        bootstrap_servers=infrastructure.kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:10]}."
    )
    clients = KafkaClients(settings)
    await clients.wait_until_reachable()
    await clients.ensure_topics()
    return settings


DatabaseFactory = Callable[[str, Path], Awaitable[str]]
OwnerUrl = Callable[[str], str]


@pytest.fixture(scope="session")
def owner_url(infrastructure: Infrastructure) -> OwnerUrl:
    """`owner_url(url)`: the same database as its owner, for tests that inspect or arrange
    rows directly (the application role sees only a tenant's rows, and none by default)."""

    def convert(url: str) -> str:
        database = make_url(url).database
        assert database is not None
        return with_database(infrastructure.postgres_admin_url, database)

    return convert


# A pytest run started by another (the suite's any-date run) on the same database server
# finds its parent's migrated templates here, as JSON by service name, and reuses them.
TEMPLATES_ENV = "TANGIBLE_TEST_TEMPLATES"


class MigratedTemplates:
    """Each service's migrations, run once per session into a template database as the owner
    (or inherited from the run that started this one, which keeps ownership of them)."""

    def __init__(self, admin_url: str, app_role: str | None, inherited: dict[str, str]) -> None:
        self._admin_url = admin_url
        self._app_role = app_role
        self._names = dict(inherited)
        self._own: list[str] = []

    async def template_for(self, service: str, migrations: Path) -> str:
        name = self._names.get(service)
        if name is None:
            name = f"{service.replace('-', '_')}_template_{uuid.uuid4().hex[:6]}"
            await create_database(self._admin_url, name)
            self._own.append(name)
            await upgrade_async(migrations, with_database(self._admin_url, name), app_role=self._app_role)
            self._names[service] = name
        return name

    def as_env(self) -> dict[str, str]:
        """For a pytest run started from this one: it then migrates nothing these cover."""
        return {TEMPLATES_ENV: json.dumps(self._names)}

    async def drop_own(self) -> None:
        for name in self._own:
            await drop_database(self._admin_url, name)


@pytest.fixture(scope="session")
async def migrated_templates(
    infrastructure: Infrastructure, app_role: str | None
) -> AsyncIterator[MigratedTemplates]:
    inherited: dict[str, str] = json.loads(os.environ.get(TEMPLATES_ENV, "{}"))
    templates = MigratedTemplates(infrastructure.postgres_admin_url, app_role, inherited)
    yield templates
    await templates.drop_own()


@pytest.fixture(scope="session")
async def app_role(infrastructure: Infrastructure) -> str | None:
    """The non-owner role services connect as (None if the server lets us create none)."""
    return APP_ROLE if await ensure_app_role(infrastructure.postgres_admin_url) else None


@pytest.fixture
async def database_factory(
    infrastructure: Infrastructure, migrated_templates: MigratedTemplates, app_role: str | None
) -> AsyncIterator[DatabaseFactory]:
    """`await make("entitlements", migrations_dir)` → URL of a fresh, migrated database, for
    the application role (row-level security applies to it; see `owner_url`).

    Each service's migrations run once per session into a template, as the owner; every
    test then gets its own copy (CREATE DATABASE … TEMPLATE), which takes milliseconds.
    """
    admin = infrastructure.postgres_admin_url
    created: list[str] = []

    async def make(service: str, migrations: Path) -> str:
        template = await migrated_templates.template_for(service, migrations)
        name = f"{service.replace('-', '_')}_{uuid.uuid4().hex[:10]}"
        await create_database(admin, name, template=template)
        created.append(name)
        url = with_database(admin, name)
        return as_role(url) if app_role is not None else url

    yield make
    for name in created:
        await drop_database(admin, name)
