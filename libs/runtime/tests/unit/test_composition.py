"""The typed container dependency every service's routes use; what a process of some roles
needs to be ready."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import APIRouter, FastAPI

from tangible_runtime.cli import ROLES
from tangible_runtime.composition import (
    INFRASTRUCTURE,
    ServiceDeclaration,
    container_dependency,
    readiness_needs,
    service_app,
)
from tangible_runtime.service import Worker
from tangible_runtime.settings import ServiceSettings


@dataclass
class Container:
    greeting: str


ContainerDep = Annotated[Container, container_dependency(Container)]


async def test_routes_receive_the_container_the_app_was_started_with() -> None:
    app = FastAPI()

    @app.get("/greeting")
    async def greeting(container: ContainerDep) -> str:
        return container.greeting

    app.state.container = Container("hello")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/greeting")).json() == "hello"
        app.state.container = Container("replaced")  # read per request, never cached
        assert (await client.get("/greeting")).json() == "replaced"


def _declaration(readiness: dict[str, frozenset[str]]) -> ServiceDeclaration[ServiceSettings, Container]:
    def no_workers(runtime: object, container: Container) -> list[Worker]:
        return []

    return ServiceDeclaration(
        name="example",
        description="",
        router=APIRouter(),
        container=lambda settings, runtime: Container("hello"),
        roles=dict.fromkeys(ROLES, no_workers),
        readiness=readiness,
    )


# as entitlements declares it: its check API answers from the in-memory view
ANSWERS_FROM_MEMORY = _declaration({"api": frozenset()})


def test_a_role_that_answers_from_memory_needs_neither_database_nor_kafka_to_be_ready() -> None:
    assert readiness_needs(ANSWERS_FROM_MEMORY, ["api"]) == frozenset()


def test_a_role_that_names_nothing_needs_database_and_kafka() -> None:
    for role in ("consumer", "relay", "scheduler"):
        assert readiness_needs(ANSWERS_FROM_MEMORY, [role]) == INFRASTRUCTURE == {"database", "kafka"}
    assert readiness_needs(_declaration({}), ["api"]) == INFRASTRUCTURE


def test_a_process_of_several_roles_needs_what_any_of_them_needs() -> None:
    assert readiness_needs(ANSWERS_FROM_MEMORY, ROLES) == INFRASTRUCTURE  # `all` in one process
    assert readiness_needs(ANSWERS_FROM_MEMORY, ["api", "consumer"]) == INFRASTRUCTURE
    partial = _declaration({"api": frozenset(), "relay": frozenset({"database"})})
    assert readiness_needs(partial, ["api", "relay"]) == {"database"}
    assert readiness_needs(partial, ["relay", "consumer"]) == {"database", "kafka"}


def test_the_app_of_the_roles_checks_what_they_need() -> None:
    settings = ServiceSettings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")  # never opened
    api_only = service_app(ANSWERS_FROM_MEMORY, settings, roles=["api"], configure_logs=False)
    everything = service_app(ANSWERS_FROM_MEMORY, settings, roles=ROLES, configure_logs=False)
    assert api_only.state.runtime.readiness_needs == frozenset()
    assert everything.state.runtime.readiness_needs == INFRASTRUCTURE


def test_the_runtime_gives_workers_the_shutdown_grace_the_settings_name() -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"  # never opened
    default = service_app(
        ANSWERS_FROM_MEMORY, ServiceSettings(database_url=url), roles=ROLES, configure_logs=False
    )
    longer = ServiceSettings(database_url=url, shutdown_grace_seconds=45)
    assert default.state.runtime.shutdown_grace_seconds == 20.0  # under the chart's 30 s
    assert (
        service_app(
            ANSWERS_FROM_MEMORY, longer, roles=ROLES, configure_logs=False
        ).state.runtime.shutdown_grace_seconds
        == 45
    )
