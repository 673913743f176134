"""Schemathesis against every service's OpenAPI document, in process, with valid credentials.

The examples, fuzzing and stateful phases with a bounded number of examples per operation
(`TANGIBLE_FUZZ_EXAMPLES`, default 5): no 500, status codes, content types, headers and
bodies as documented, schema-violating input refused, every 4xx a problem document. The
services run on the test's event loop (real Kafka and PostgreSQL); the engine runs in a
worker thread and reaches them through an ASGI app that forwards each request to that loop.

The coverage phase (every boundary and negative value of every parameter: thousands of
cases per service, nine tenths of this file's time) runs in `make test` over HTTP, with
every check, in `test_contracts_over_http.py`; here it runs when `TANGIBLE_FUZZ_PHASES`
names it, as `make fuzz` does (all four phases, more examples).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status
from schemathesis.engine import events as engine_events

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("TANGIBLE_FUZZ_EXAMPLES", "5"))
ALL_PHASES = ("examples", "coverage", "fuzzing", "stateful")
PHASES = tuple(os.environ.get("TANGIBLE_FUZZ_PHASES", "examples,fuzzing,stateful").split(","))
assert set(PHASES) <= set(ALL_PHASES), f"TANGIBLE_FUZZ_PHASES: {PHASES}, of {ALL_PHASES}"
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


@schemathesis.check
def problem_details(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every refusal is an RFC 9457 problem document."""
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith("application/problem+json"), f"{response.status_code}: {content_type}"
        problem = response.json()
        assert problem.get("status") == response.status_code and problem.get("title"), problem
    return None


def forward_to(loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> ASGIApp:
    """An ASGI app, run on schemathesis' own loop, that sends each request through `client`
    on `loop` (where the service, its database pool and Kafka clients live)."""

    async def app(scope: Message, receive: Callable[[], Awaitable[Message]], send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        request = client.request(
            scope["method"], target.decode("latin-1"), headers=list(scope["headers"]), content=body
        )
        response = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(request, loop))
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.multi_items()]
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": response.content})

    return app


def fuzz(app: ASGIApp, token: str) -> list[str]:
    """Run every phase against `app`; the failures found, one line each."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": 20261126,  # reproducible: the same cases on every run
            "headers": {"Authorization": f"Bearer {token}"},
            "generation": {"max-examples": EXAMPLES, "database": "none", "no-shrink": True},
            "phases": {name: {"enabled": name in PHASES} for name in ALL_PHASES},
            "checks": {
                "enabled": False,
                **{
                    name: {"enabled": True}
                    for name in (
                        "not_a_server_error",
                        "status_code_conformance",
                        "content_type_conformance",
                        "response_headers_conformance",
                        "response_schema_conformance",
                        "negative_data_rejection",
                        "problem_details",
                    )
                },
            },
        }
    )
    # an event stream never ends: not a request/response operation (test_live_stream opens it)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config).exclude(
        path_regex="/stream$"
    )
    failures: list[str] = []
    phases: set[str] = set()
    cases = 0
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, engine_events.PhaseFinished):  # skipped: nothing to do there
            phases.add(event.phase.name.value)
        if isinstance(event, engine_events.ScenarioFinished | engine_events.FuzzScenarioFinished):
            cases += len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        case = event.recorder.cases[case_id].value
                        failure = check.failure_info.failure
                        failures.append(
                            f"{check.name}: {case.method} {case.formatted_path}: {failure.title}: "
                            f"{failure.message[:300]}\n    {check.failure_info.code_sample[:400]}"
                        )
        elif isinstance(event, engine_events.NonFatalError | engine_events.FatalError):
            failures.append(f"error: {event}")
    missing = set(PHASES) - phases
    if missing or cases < 10:
        failures.append(f"phases that did not run: {sorted(missing)}; {cases} cases")
    return failures


@pytest.mark.parametrize("service", ["usage-ingest", "entitlements", "rewards", "notifications"])
async def test_no_input_makes_a_service_fail_or_break_its_contract(
    service: str,
    start_system: Any,
    started_services: dict[str, Any],
    notifications_overrides: dict[str, Any],
    issue_token: Callable[..., str],
    tenant_id: str,
) -> None:
    await start_system(overrides={"notifications": notifications_overrides})
    loop = asyncio.get_running_loop()
    token = issue_token(tenant_id, "admin", "read", "ingest")
    found = await asyncio.to_thread(fuzz, forward_to(loop, started_services[service].client), token)
    assert not found, "\n".join(sorted(set(found)))
