"""One value per query parameter, unless the operation declares a list.

The OpenAPI documents describe scalar query parameters (`?actor=a`); given twice
(`?actor=a&actor=b`), FastAPI would quietly keep the last value, so a request the document
calls invalid would be answered as if it were another. It is refused instead, as a 422
problem naming the parameter."""

from __future__ import annotations

import types
from collections import Counter
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.models import Dependant

from tangible_runtime.problems import ProblemError

_SEQUENCES = (list, tuple, set, frozenset)


def _query_fields(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _query_fields(sub)


def _is_sequence(annotation: Any) -> bool:
    if get_origin(annotation) in _SEQUENCES or annotation in _SEQUENCES:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_sequence(arg) for arg in get_args(annotation))
    return False


def _repeatable(request: Request) -> set[str]:
    route = request.scope.get("route")
    dependant: Dependant | None = getattr(route, "dependant", None)
    if dependant is None:
        return set()
    return {field.alias for field in _query_fields(dependant) if _is_sequence(field.field_info.annotation)}


async def one_value_per_query_parameter(request: Request) -> None:
    repeated = [
        name for name, count in Counter(k for k, _ in request.query_params.multi_items()).items() if count > 1
    ]
    if not repeated:
        return
    repeatable = _repeatable(request)
    refused = sorted(name for name in repeated if name not in repeatable)
    if refused:
        raise ProblemError(
            422,
            "query parameter given more than once",
            type_="repeated-query-parameter",
            detail=f"'{refused[0]}' takes one value",
        )
