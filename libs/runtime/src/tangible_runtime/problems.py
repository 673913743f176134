"""RFC 9457 problem details for every error, via fastapi-problem.

Domain errors map by class to a status; credential errors to 401/403; a value the database
cannot store (a data exception: NUL characters, out-of-range numbers) to 422. Anything
unexpected becomes a 500 problem without internals (and is logged with its trace id).
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import validation_error_definition
from fastapi.routing import iter_route_contexts
from fastapi_problem.error import Problem
from fastapi_problem.handler import ExceptionHandler, add_exception_handler, new_exception_handler
from sqlalchemy.exc import DBAPIError
from starlette.responses import Response
from starlette.routing import BaseRoute, compile_path

from tangible_runtime.auth import CredentialError, Forbidden, Unauthenticated
from tangible_runtime.domain import Conflict, DomainError, NotFound, Rejected
from tangible_runtime.logs import get_logger

DOMAIN_STATUS: dict[type[DomainError], int] = {NotFound: 404, Conflict: 409, Rejected: 422}


class ProblemError(Problem):
    """Raise from routes for errors that are not domain rules (413, 429, 503 …)."""

    def __init__(
        self,
        status: int,
        title: str,
        *,
        type_: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        **extras: Any,
    ) -> None:
        super().__init__(title=title, type_=type_, detail=detail, status=status, headers=headers, **extras)


def _domain_handler(_eh: ExceptionHandler, _request: Request, error: Exception) -> Problem:
    assert isinstance(error, DomainError)
    status = next((s for cls, s in DOMAIN_STATUS.items() if isinstance(error, cls)), 400)
    extras = {k: v for k, v in error.details.items() if isinstance(v, str | int | float | bool | list | dict)}
    problem_extras: dict[str, Any] = extras
    return Problem(title=error.message, type_=error.code, status=status, **problem_extras)


def _credential_handler(_eh: ExceptionHandler, _request: Request, error: Exception) -> Problem:
    if isinstance(error, Forbidden):
        return Problem(title=str(error), type_="forbidden", status=403)
    assert isinstance(error, Unauthenticated | CredentialError)
    return Problem(
        title=str(error) or "authentication required",
        type_="unauthenticated",
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="tangible"'},
    )


def _database_handler(_eh: ExceptionHandler, _request: Request, error: Exception) -> Problem:
    """PostgreSQL refused a value of the request (SQLSTATE class 22, data exception): the
    transaction rolled back, nothing was stored; the client can fix its input."""
    assert isinstance(error, DBAPIError)
    sqlstate = str(getattr(error.orig, "sqlstate", None) or "")
    if sqlstate.startswith("22"):
        return Problem(
            title="the request holds a value that cannot be stored",
            type_="unstorable-value",
            status=422,
            detail="for example a NUL character, or a number out of range",
        )
    _log.error("database_error", sqlstate=sqlstate, error=type(error.orig).__name__)
    return Problem(title="Server error", type_="server-error", status=500)


def _allowed_methods(routes: list[BaseRoute], path: str) -> list[str]:
    """Every method some route serves at `path` (routes of included routers too: FastAPI
    keeps them nested, with their prefixes, behind `iter_route_contexts`)."""
    methods: set[str] = set()
    for route in iter_route_contexts(routes):
        if route.path and route.methods and compile_path(route.path)[0].match(path):
            methods |= route.methods
    return sorted(methods)


def _allow_every_method(
    content: dict[str, Any], request: Request, response: Response
) -> tuple[dict[str, Any], Response]:
    """Starlette answers a 405 from the first route whose path matched, so its `Allow` names
    only that route's methods (`/v1/plans` → `Allow: POST`, though GET is served there too):
    RFC 9110 wants every method the resource supports."""
    if response.status_code == 405:
        allowed = _allowed_methods(request.app.router.routes, request.url.path)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return content, response


_log = get_logger("tangible.errors")
_PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _document_problems(app: FastAPI) -> None:
    """Every operation may answer a 4xx problem (credentials, validation, domain rules):
    say so in the OpenAPI document, and give documented error responses that name only a
    description their problem content (fastapi-problem's own step expects one)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        for path_item in document.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                for status, response in responses.items():
                    if status[:1] in ("4", "5") and "content" not in response:
                        response["content"] = dict(_PROBLEM_CONTENT)
                responses.setdefault(
                    "4XX", {"description": "A problem (RFC 9457)", "content": dict(_PROBLEM_CONTENT)}
                )
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _allow_domain_rejections(app: FastAPI) -> None:
    """A 422 is a validation problem (with `errors`) or a domain rule's rejection (without):
    fastapi-problem documents only the first. Its problem names `ValidationError` for its
    `errors`, which FastAPI defines only when some route validates parameters or a body
    (usage-ingest's does neither): define it always, so that no reference dangles."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        schemas = document.get("components", {}).get("schemas", {})
        schema = schemas.get("HTTPValidationError", {})
        if "errors" in schema.get("required", []):
            schema["required"] = [name for name in schema["required"] if name != "errors"]
        if schema:
            schemas.setdefault("ValidationError", copy.deepcopy(validation_error_definition))
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def install_problem_handlers(app: FastAPI) -> None:
    _document_problems(app)
    handler = new_exception_handler(
        logger=_log,  # type: ignore[arg-type]
        handlers={
            DomainError: _domain_handler,
            CredentialError: _credential_handler,
            DBAPIError: _database_handler,
        },
        documentation_uri_template="https://tangible.dev/problems/{type}",
        post_hooks=[_allow_every_method],
    )
    add_exception_handler(app, handler, generic_swagger_defaults=False)
    _allow_domain_rejections(app)
    # Registered by class as well: handlers for bare `Exception` run in Starlette's
    # ServerErrorMiddleware, which re-raises after responding (and logs a 500-style error).
    app.add_exception_handler(DomainError, handler)
    app.add_exception_handler(CredentialError, handler)
    app.add_exception_handler(DBAPIError, handler)
