"""Limits and hostile input: always a 4xx problem (or a per-event rejection), never a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson
import pytest

pytestmark = pytest.mark.integration

Event = Callable[..., dict[str, Any]]
MiB = 1_048_576


def assert_problem(response: httpx.Response, status: int, type_suffix: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"].endswith(type_suffix), problem
    return problem


async def test_more_events_than_the_limit_is_413(
    start_ingest: Any, ingest_headers: dict[str, str], event: Event
) -> None:
    async with start_ingest(max_events_per_request=5) as ingest:
        response = await ingest.post("/v1/events", json=[event() for _ in range(6)], headers=ingest_headers)
        assert_problem(response, 413, "too-many-events")
        assert (
            await ingest.post("/v1/events", json=[event()] * 5, headers=ingest_headers)
        ).status_code == 202


MALFORMED = {
    "truncated": b'[{"id": "1",',
    "nested-2000-deep": b"[" * 2000 + b"]" * 2000,
    "nan": b'[{"specversion": "1.0", "data": {"quantity": NaN}}]',
    "infinity": b'[{"data": {"quantity": Infinity}}]',
    "number-overflowing-a-double": b'[{"data": {"quantity": 1e400}}]',
    "invalid-utf8": b'[{"id": "\xff\xfe"}]',
    "lone-surrogate": b'[{"id": "\\ud800"}]',
    "empty": b"",
    "binary": b"\x00\x01\x02",
}


async def test_bad_requests_are_4xx_problems_and_publish_nothing(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event, read_usage: Any
) -> None:
    too_big = orjson.dumps([event(data={"blob": "x" * MiB})])
    response = await ingest.post("/v1/events", content=too_big, headers=ingest_headers)
    assert_problem(response, 413, "payload-too-large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while reading
        for start in range(0, len(too_big), 65_536):
            yield too_big[start : start + 65_536]

    response = await ingest.post("/v1/events", content=chunks(), headers=ingest_headers)
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")

    text_plain = {**ingest_headers, "Content-Type": "text/plain"}
    response = await ingest.post("/v1/events", content=b"[]", headers=text_plain)
    assert_problem(response, 415, "unsupported-media-type")

    batch = {**ingest_headers, "Content-Type": "application/cloudevents-batch+json"}
    response = await ingest.post("/v1/events", json=event(), headers=batch)  # an object, not an array
    assert_problem(response, 400, "not-a-batch")

    for name, body in MALFORMED.items():
        response = await ingest.post("/v1/events", content=body, headers=ingest_headers)
        assert response.status_code == 400, name
        assert_problem(response, 400, "malformed-json")

    assert await read_usage() == []


def dumps(value: Any) -> bytes:
    """orjson refuses to write more than 254 levels; the standard library goes deeper."""
    return json.dumps(value, ensure_ascii=False).encode()


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


HOSTILE: dict[str, tuple[dict[str, Any], str]] = {
    "data-nested-300-deep": ({"data": {"deep": nested(300)}}, "too-deeply-nested"),
    "quantity-huge-integer": ({"data": {"quantity": 10**19}}, "less_than_equal"),
    "quantity-huge-float": ({"data": {"quantity": 1e300}}, "less_than_equal"),
    "quantity-nan-text": ({"data": {"quantity": "NaN"}}, "value_error"),
    "quantity-boolean": ({"data": {"quantity": True}}, "value_error"),
    "data-not-an-object": ({"data": []}, "model_type"),
    "data-null": ({"data": None}, "model_type"),
    "id-of-300-kb": ({"id": "x" * 300_000}, "string_too_long"),
    "empty-subject": ({"subject": ""}, "string_too_short"),
    "numeric-subject": ({"subject": 42}, "string_type"),
    "impossible-date": ({"time": "2026-13-45T99:00:00Z"}, "datetime_from_date_parsing"),  # fixed date: none
    "time-without-offset": ({"time": "2026-11-26T10:00:00"}, "value_error"),  # fixed date: refused anyway
    "invalid-extension-name": ({"Bad-Name!": 1}, "value_error"),
    "wrong-specversion": ({"specversion": 1.0}, "literal_error"),
}


async def test_hostile_events_are_rejected_one_by_one_with_a_reason(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event
) -> None:
    batch = [event(), *(event(**overrides) for overrides, _ in HOSTILE.values())]
    response = await ingest.post("/v1/events", content=dumps(batch), headers=ingest_headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, len(HOSTILE))
    for (name, (_, code)), result in zip(HOSTILE.items(), body["results"][1:], strict=True):
        assert result["status"] == "rejected", name
        assert code in {e["code"] for e in result["errors"]}, (name, result)
        assert all(len(e["message"]) < 1000 for e in result["errors"]), name  # no echo of the input


async def test_an_oversized_event_is_rejected_alone_and_exotic_values_are_kept(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event, read_usage: Any
) -> None:
    big = event(data={"blob": "é" * 500_100})  # 1,000,200 bytes of UTF-8, under the 1 MiB body
    text = "🦄\u2028\\u0000"  # a backslash and "u0000" are six storable characters
    properties = {"big": 18446744073709551615, "tiny": 5e-324, "text": text, "list": [None, True]}
    exotic = event(data=properties)
    response = await ingest.post("/v1/events", content=orjson.dumps([exotic, big]), headers=ingest_headers)
    assert response.status_code == 202, response.text
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "rejected"]
    assert response.json()["results"][1]["errors"][0]["code"] == "event-too-large"
    [record] = await read_usage()
    assert orjson.loads(record.value)["properties"] == properties


# Well-formed events that a consumer could not apply (PostgreSQL text and jsonb refuse U+0000;
# consumers parse at most 200 levels and do calendar arithmetic that overflows near year 1):
# each was accepted, then failed in entitlements and rewards and was dead-lettered.
UNSTORABLE: dict[str, tuple[dict[str, Any], str, str]] = {
    "nul-in-subject": ({"subject": "acct\u0000"}, "nul-character", "subject"),
    "nul-in-id": ({"id": "e\u0000"}, "nul-character", "id"),
    "nul-in-source": ({"source": "app://\u0000"}, "nul-character", "source"),
    "nul-in-type": ({"type": "report\u0000"}, "nul-character", "type"),
    "nul-in-user-id": ({"data": {"user_id": "u\u0000"}}, "nul-character", "data.user_id"),
    "nul-in-a-property": ({"data": {"note": "x\u0000"}}, "nul-character", "data.note"),
    "nul-in-a-nested-key": ({"data": {"a": [{"k\u0000": 1}]}}, "nul-character", "data.a[0].k\\u0000"),
    "nul-in-an-extension": ({"traceid": "\u0000"}, "nul-character", "traceid"),
    "data-129-deep": ({"data": {"deep": nested(128)}}, "too-deeply-nested", "data"),
    "time-in-year-1": ({"time": "0001-01-01T00:00:00+14:00"}, "time-before-1970", "time"),
    "time-before-1970": ({"time": "1969-12-31T23:59:59Z"}, "time-before-1970", "time"),
}


async def test_what_a_consumer_could_not_apply_is_refused_at_the_door(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event, read_usage: Any
) -> None:
    single = {**ingest_headers, "Content-Type": "application/cloudevents+json"}
    for name, (overrides, code, field) in UNSTORABLE.items():
        response = await ingest.post("/v1/events", content=dumps(event(**overrides)), headers=single)
        problem = assert_problem(response, 422, "no-valid-events")
        [result] = problem["errors"]
        assert result["status"] == "rejected", name
        assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, field)], name
        assert "\x00" not in str(problem), name  # the reason names the place, never echoes a NUL

    batch = [event(), *(event(**overrides) for overrides, _, _ in UNSTORABLE.values())]
    response = await ingest.post("/v1/events", content=dumps(batch), headers=ingest_headers)
    assert response.status_code == 202, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted"] + ["rejected"] * len(UNSTORABLE)
    reasons = [(e["code"], e["field"]) for r in results[1:] for e in r["errors"]]
    assert reasons == [(code, field) for _, code, field in UNSTORABLE.values()]
    assert len(await read_usage()) == 1


async def test_events_at_the_edges_of_the_door_rules_are_accepted(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], event: Event, read_usage: Any
) -> None:
    edges = [
        event(data={"deep": nested(127)}),  # data itself is the 128th level
        event(time="1970-01-01T00:00:00Z"),
        event(time="1970-01-01T01:00:00+01:00"),
        event(data={"escaped": "\\u0000 is six characters here", "control": "\u0001\u001f"}),
    ]
    response = await ingest.post("/v1/events", content=dumps(edges), headers=ingest_headers)
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == len(edges), response.text
    assert len(await read_usage()) == len(edges)


HEAD = b'{"specversion":"1.0","source":"s","type":"t",'
DUPLICATES = {
    "envelope": b'[{"specversion": "1.0", "id": "d-1", "id": "d-2", "source": "s", "subject": "a"}]',
    "data": b"[" + HEAD + b'"id":"d-3","subject":"a","data":{"quantity":1,"quantity":9}}]',
    "pretty-printed": b'[{\n  "subject" : "a",\n  "subject" : "b"\n}]',
    "escaped-name": b"[" + HEAD + b'"id":"d-4","subject":"a","subj\\u0065ct":"b"}]',
    "hidden-by-an-escaped-colon": b'[{"id":"d-5","id":"d-6","x":"\\u003a"}]',
    "deep": b'[{"data":' + b'{"a":' * 300 + b'{"q":1,"q":2}' + b"}" * 300 + b"}]",
}
NOT_DUPLICATES = {
    "same-name-in-two-objects": b'[{"specversion":"1.0","id":"n-1","source":"s","type":"t","subject":"a",'
    b'"data":{"quantity":1,"p":{"quantity":2}}}]',
    "colons-and-quotes-in-strings": b'[{"specversion":"1.0","id":"n-2","source":"app://x","type":"t",'
    b'"subject":"a","data":{"note":"\\":\\\\\\":\\u0022:"}}]',
}


async def test_duplicate_member_names_are_refused_whole(
    ingest: httpx.AsyncClient, ingest_headers: dict[str, str], read_usage: Any
) -> None:
    """Parsers disagree on which duplicate wins (a smuggling vector): refuse the body."""
    for name, body in DUPLICATES.items():
        response = await ingest.post("/v1/events", content=body, headers=ingest_headers)
        assert response.status_code == 400, (name, response.text)
        assert_problem(response, 400, "duplicate-key")
    assert await read_usage() == []
    for name, body in NOT_DUPLICATES.items():
        response = await ingest.post("/v1/events", content=body, headers=ingest_headers)
        assert response.status_code == 202, (name, response.text)
        assert response.json()["accepted"] == 1, (name, response.text)
