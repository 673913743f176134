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
    properties = {"big": 18446744073709551615, "tiny": 5e-324, "text": "🦄\u0000\u2028", "list": [None, True]}
    exotic = event(data=properties)
    response = await ingest.post("/v1/events", content=orjson.dumps([exotic, big]), headers=ingest_headers)
    assert response.status_code == 202, response.text
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "rejected"]
    assert response.json()["results"][1]["errors"][0]["code"] == "event-too-large"
    [record] = await read_usage()
    assert orjson.loads(record.value)["properties"] == properties


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
