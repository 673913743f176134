"""A scalar query parameter given twice is refused; a declared list takes repeats."""

from __future__ import annotations

import httpx
from fastapi import Depends, FastAPI, Query

from tangible_runtime.paging import PagingDep
from tangible_runtime.problems import install_problem_handlers
from tangible_runtime.queries import one_value_per_query_parameter


def _app() -> FastAPI:
    app = FastAPI(dependencies=[Depends(one_value_per_query_parameter)])
    install_problem_handlers(app)

    @app.get("/items")
    async def items(
        paging: PagingDep, actor: str | None = None, action: list[str] | None = Query(default=None)
    ) -> dict[str, object]:
        return {"actor": actor, "action": action, "limit": paging.limit}

    return app


async def test_repeats_only_where_the_operation_takes_a_list() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        listed = await client.get("/items", params=[("action", "a"), ("action", "b"), ("actor", "x")])
        assert listed.json() == {"actor": "x", "action": ["a", "b"], "limit": 50}
        for name in ("actor", "limit"):  # a route's own parameter, and a dependency's
            twice = await client.get("/items", params=[(name, "1"), (name, "2")])
            assert twice.status_code == 422, twice.text
            assert twice.headers["content-type"].startswith("application/problem+json")
            assert twice.json()["detail"] == f"'{name}' takes one value"
