"""Problem details the app factory installs, on a bare FastAPI app (no infrastructure)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from tangible_runtime.problems import install_problem_handlers


def _app() -> FastAPI:
    """Routes as the services declare them: on a router with a prefix, included in the app."""
    app = FastAPI()
    install_problem_handlers(app)
    router = APIRouter(prefix="/v1")

    @router.post("/plans")
    async def create() -> dict[str, str]:
        return {}

    @router.get("/plans")
    async def list_() -> list[str]:
        return []

    @router.put("/plans/{key}")
    async def put(key: str) -> dict[str, str]:
        return {}

    app.include_router(router)
    return app


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        # the first matching route is the POST one: Starlette alone would answer `Allow: POST`
        ("OPTIONS", "/v1/plans", "GET, POST"),
        ("DELETE", "/v1/plans", "GET, POST"),
        ("GET", "/v1/plans/starter", "PUT"),
    ],
)
async def test_a_405_allows_every_method_the_path_serves(method: str, path: str, allow: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 405


def test_the_validation_problem_references_only_defined_schemas_without_validated_routes() -> None:
    """An app whose routes validate nothing (usage-ingest reads its body itself) still
    documents the validation problem; what it references must be defined."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {}

    schemas = app.openapi()["components"]["schemas"]
    assert schemas["HTTPValidationError"]["properties"]["errors"]["items"] == {
        "$ref": "#/components/schemas/ValidationError"
    }
    assert schemas["ValidationError"]["required"] == ["loc", "msg", "type"]
