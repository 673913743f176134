"""Admin routes over the dead-letter topics of a service's own consumers: list, inspect,
replay (see `tangible_runtime.dead_letters`). Mounted by every service that consumes."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from tangible_runtime.app import AdminPrincipal
from tangible_runtime.audit import record_action
from tangible_runtime.dead_letters import (
    DeadLetter,
    Selection,
    read_dead_letters,
    replay_dead_letters,
)
from tangible_runtime.paging import Page, PagingDep
from tangible_runtime.problems import ProblemError
from tangible_runtime.rfc3339 import Rfc3339
from tangible_runtime.service import ServiceRuntime


class DeadLetterRead(BaseModel):
    id: str = Field(description="`<partition>-<offset>` in the dead-letter topic")
    consumer: str
    dead_lettered_at: datetime
    reason: str = Field(description="why the consumer refused it, e.g. unknown_account, handler_failed")
    detail: str
    source_topic: str | None
    event_type: str | None
    event_id: str | None


class DeadLetterDetail(DeadLetterRead):
    headers: dict[str, str]
    value_base64: str = Field(description="the record's value as it was consumed")
    value: Any | None = Field(default=None, description="the value decoded as JSON, when it is JSON")


class DeadLetterPage(Page[DeadLetterRead]):
    """The shared page, plus the offset of the next one (what the CLI and scripts follow)."""

    next_offset: int | None = Field(description="pass as `offset` for the next page; null on the last")


class ReplayRequest(BaseModel):
    """Every given criterion must hold; at least one must be given."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=200)
    since: Rfc3339 | None = None
    until: Rfc3339 | None = None
    ids: list[str] | None = Field(default=None, max_length=10_000)


class ReplayResult(BaseModel):
    replayed: list[str]
    skipped: list[str] = Field(description="records with no source topic to go back to")


def _read(letter: DeadLetter) -> DeadLetterRead:
    return DeadLetterRead(
        id=letter.id,
        consumer=letter.consumer,
        dead_lettered_at=letter.dead_lettered_at,
        reason=letter.reason,
        detail=letter.detail,
        source_topic=letter.source_topic,
        event_type=letter.event_type,
        event_id=letter.event_id,
    )


def _detail(letter: DeadLetter) -> DeadLetterDetail:
    try:
        decoded: Any | None = json.loads(letter.value)
    except ValueError:
        decoded = None
    return DeadLetterDetail(
        **_read(letter).model_dump(),
        headers={name: value.decode("utf-8", "replace") for name, value in letter.headers},
        value_base64=base64.b64encode(letter.value).decode(),
        value=decoded,
    )


def _not_found(what: str) -> ProblemError:
    return ProblemError(404, "Not found", type_="not-found", detail=what)


def dead_letters_router(consumers: Sequence[str]) -> APIRouter:
    """Routes for the dead-letter topics of `consumers` (this service's consumer names)."""
    known = frozenset(consumers)
    router = APIRouter(prefix="/v1/dead-letters", tags=["dead letters"])

    def consumer_path() -> Any:
        """Documented as an enum (a generated client offers the names); another name is a
        404, an unknown resource, rather than a 422. A default, not an `Annotated` alias: the
        names are this service's, and a local alias cannot be resolved from a string
        annotation."""
        return Path(
            max_length=200, description="the consumer's name", json_schema_extra={"enum": sorted(known)}
        )

    responses: dict[int | str, dict[str, Any]] = {404: {"description": "No such consumer or record"}}

    def runtime_of(request: Request, consumer: str) -> ServiceRuntime:
        if consumer not in known:
            raise _not_found(f"no consumer {consumer!r} here; known: {', '.join(sorted(known))}")
        runtime: ServiceRuntime = request.app.state.runtime
        return runtime

    @router.get("/{consumer}", response_model=DeadLetterPage, responses=responses)
    async def list_dead_letters(
        request: Request,
        principal: AdminPrincipal,
        paging: PagingDep,
        consumer: str = consumer_path(),
        reason: Annotated[str | None, Query(max_length=200)] = None,
        since: Annotated[Rfc3339 | None, Query()] = None,
        until: Annotated[Rfc3339 | None, Query()] = None,
    ) -> DeadLetterPage:
        """The tenant's dead letters of one consumer, oldest first."""
        runtime = runtime_of(request, consumer)
        letters = await read_dead_letters(
            runtime.clients,
            consumer=consumer,
            tenant_id=principal.tenant_id,
            selection=Selection(reason=reason, since=since, until=until),
        )
        end = paging.offset + paging.limit
        return DeadLetterPage(
            items=[_read(x) for x in letters[paging.offset : end]],
            total=len(letters),
            limit=paging.limit,
            offset=paging.offset,
            next_offset=end if end < len(letters) else None,
        )

    @router.get("/{consumer}/records/{record_id}", response_model=DeadLetterDetail, responses=responses)
    async def show_dead_letter(
        request: Request,
        principal: AdminPrincipal,
        record_id: Annotated[str, Path(max_length=60, pattern=r"^\d+-\d+$")],
        consumer: str = consumer_path(),
    ) -> DeadLetterDetail:
        """One dead letter with its headers and value."""
        runtime = runtime_of(request, consumer)
        letters = await read_dead_letters(
            runtime.clients,
            consumer=consumer,
            tenant_id=principal.tenant_id,
            selection=Selection(ids=frozenset({record_id})),
        )
        if not letters:
            raise _not_found(f"no dead letter {record_id} of {consumer}")
        return _detail(letters[0])

    @router.post(
        "/{consumer}/replay",
        response_model=ReplayResult,
        responses={**responses, 422: {"description": "No selection given"}},
    )
    async def replay(
        request: Request, principal: AdminPrincipal, body: ReplayRequest, consumer: str = consumer_path()
    ) -> ReplayResult:
        """Send the selected dead letters back to their source topic (at most once applied:
        the consumer's inbox skips an event it has already applied)."""
        runtime = runtime_of(request, consumer)
        if body.reason is None and body.since is None and body.until is None and not body.ids:
            raise ProblemError(
                422,
                "Empty selection",
                type_="empty-selection",
                detail="give reason, since, until or ids (to replay everything, give a time range)",
            )
        outcome = await replay_dead_letters(
            runtime.clients,
            runtime.producer,
            consumer=consumer,
            tenant_id=principal.tenant_id,
            selection=Selection(
                reason=body.reason,
                since=body.since,
                until=body.until,
                ids=frozenset(body.ids) if body.ids else None,
            ),
            actor=principal.credential_id,
        )
        # a replay changes no row of ours: the audit log records it as an action, after the
        # records are back on their topics (Kafka and the database share no transaction)
        async with runtime.session_factory.begin() as session:
            await record_action(
                session,
                "dlq_replay",
                subject=f"dead-letters/{consumer}",
                after={"selection": body.model_dump(mode="json"), **asdict(outcome)},
            )
        return ReplayResult(replayed=outcome.replayed, skipped=outcome.skipped)

    return router
