"""The typed container dependency every service's routes use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import FastAPI

from tangible_runtime.composition import container_dependency


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
