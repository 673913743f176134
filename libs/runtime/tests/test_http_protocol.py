"""A response's head and body leave in one write; nothing is held past one turn of the loop.
What an app answers now (`answer_now`) leaves without an ASGI call, in request order, and
honours keep-alive and `Connection: close`."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from tangible_runtime.http_protocol import (
    Answer,
    CoalescingHttpToolsProtocol,
    CoalescingTransport,
    PlainRead,
    plain_read,
)


class RecordingTransport(asyncio.Transport):
    """Stands in for the socket: records each write as one system call would be."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


async def test_a_head_and_its_body_are_one_write() -> None:
    socket_side = RecordingTransport()
    transport = CoalescingTransport(socket_side, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert socket_side.writes == []
    transport.write(b"{}")
    assert socket_side.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]
    await asyncio.sleep(0)
    assert socket_side.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]  # the scheduled flush finds nothing


async def test_a_lone_write_leaves_on_the_next_turn_of_the_loop() -> None:
    socket_side = RecordingTransport()
    transport = CoalescingTransport(socket_side, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    assert transport.get_write_buffer_size() > 0
    await asyncio.sleep(0)
    assert socket_side.writes == [b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"]


def test_a_whole_response_leaves_at_once_after_what_is_held() -> None:
    socket_side = RecordingTransport()
    loop = asyncio.new_event_loop()
    try:
        transport = CoalescingTransport(socket_side, loop)
        transport.write_whole(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
        assert socket_side.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
        transport.write(b"held")
        transport.write_whole(b"whole")
        assert socket_side.writes[1:] == [b"held", b"whole"]
    finally:
        loop.close()  # never run: nothing waited for a turn of the loop


async def test_an_empty_body_and_a_close_send_what_is_held() -> None:
    socket_side = RecordingTransport()
    transport = CoalescingTransport(socket_side, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 304 Not Modified\r\n\r\n")
    transport.write(b"")
    assert socket_side.writes == [b"HTTP/1.1 304 Not Modified\r\n\r\n"]
    transport.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    transport.close()
    assert socket_side.writes[-1] == b"HTTP/1.1 400 Bad Request\r\n\r\n"
    assert socket_side.closed


STREAM_PAUSE = 0.5


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    if scope["path"] == "/stream":
        # the head must reach the client before the first chunk, which comes much later
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(STREAM_PAUSE)
        await send({"type": "http.response.body", "body": b"late", "more_body": False})
        return
    status = 304 if scope["path"] == "/unchanged" else 200
    body = b"" if status == 304 else b'{"ok":true}'
    headers = [(b"content-length", b"%d" % len(body))] if body else []
    await send({"type": "http.response.start", "status": status, "headers": [(b"etag", b'"x"'), *headers]})
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def _serving(asgi_app: Any) -> AsyncIterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        asgi_app,
        host="127.0.0.1",
        port=port,
        http=CoalescingHttpToolsProtocol,
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # a server that failed to start says why
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def base() -> AsyncIterator[str]:
    async with _serving(app) as url:
        yield url


async def test_responses_over_a_kept_alive_connection(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(3):
            ok = await client.get("/check")
            assert (ok.status_code, ok.content, ok.headers["etag"]) == (200, b'{"ok":true}', '"x"')
            unchanged = await client.get("/unchanged")
            assert (unchanged.status_code, unchanged.content) == (304, b"")


async def test_a_streaming_head_is_not_held_until_its_body(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        started = time.perf_counter()
        async with client.stream("GET", "/stream") as response:
            head_after = time.perf_counter() - started
            assert response.status_code == 200
            assert await response.aread() == b"late"
    assert head_after < STREAM_PAUSE / 2


class AnsweringApp:
    """An ASGI app with `answer_now`: `/fast/...` is answered in the parser callback (and
    counted), `/slow` by a task that takes a while, anything else by the ASGI path."""

    def __init__(self) -> None:
        self.asgi_paths: list[str] = []
        self.answered: list[str] = []

    def answer_now(self, path: str, headers: Sequence[tuple[bytes, bytes]]) -> Answer | None:
        if not path.startswith("/fast/"):
            return None
        self.answered.append(path)
        seen = dict(headers).get(b"x-seen", b"-")
        body = b'{"path":"%s","seen":"%s"}' % (path.encode(), seen)
        return Answer(
            200, [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))], body
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        self.asgi_paths.append(scope["path"])
        if scope["path"] == "/slow":
            await asyncio.sleep(0.2)
        body = b"asgi " + scope["path"].encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def answering() -> AsyncIterator[tuple[str, AnsweringApp]]:
    answering_app = AnsweringApp()
    async with _serving(answering_app) as url:
        yield url, answering_app


async def test_what_the_app_answers_now_needs_no_asgi_call(answering: tuple[str, AnsweringApp]) -> None:
    base, answering_app = answering
    async with httpx.AsyncClient(base_url=base) as client:
        for n in range(3):  # one kept-alive connection
            fast = await client.get(f"/fast/{n}", headers={"X-Seen": "yes"})
            assert (fast.status_code, fast.json()) == (200, {"path": f"/fast/{n}", "seen": "yes"})
            assert "date" in fast.headers and fast.headers["content-type"] == "application/json"
        # declined by the answerer, or not a plain GET: the app's ASGI path, as always
        assert (await client.get("/other")).text == "asgi /other"
        assert (await client.get("/fast/1?x=1")).text == "asgi /fast/1"
        assert (await client.post("/fast/1")).text == "asgi /fast/1"
    assert answering_app.answered == ["/fast/0", "/fast/1", "/fast/2"]
    assert answering_app.asgi_paths == ["/other", "/fast/1", "/fast/1"]


def _exchange(base: str, raw: bytes) -> bytes:
    """Sends `raw` in one write and reads until the server closes the connection."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(raw)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


async def test_a_pipelined_answer_waits_for_the_request_before_it(
    answering: tuple[str, AnsweringApp],
) -> None:
    base, _ = answering
    raw = (
        b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /fast/after HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /fast/last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    received = await asyncio.to_thread(_exchange, base, raw)
    # in request order, though the fast ones were parsed while the slow one was in flight
    assert received.index(b"asgi /slow") < received.index(b"/fast/after") < received.index(b"/fast/last")
    assert received.count(b"HTTP/1.1 200 OK") == 3


async def test_an_answer_now_honours_connection_close_and_http_1_0(
    answering: tuple[str, AnsweringApp],
) -> None:
    base, answering_app = answering
    closed = await asyncio.to_thread(
        _exchange, base, b"GET /fast/bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    head, _, body = closed.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower() and body == b'{"path":"/fast/bye","seen":"-"}'
    old = await asyncio.to_thread(_exchange, base, b"GET /fast/old HTTP/1.0\r\n\r\n")
    assert old.endswith(b"asgi /fast/old")  # HTTP/1.0 keeps uvicorn's path
    assert answering_app.answered == ["/fast/bye"]


def test_a_fast_lane_reads_only_a_bearer_request_that_is_no_browsers_call() -> None:
    bearer = (b"authorization", b"Bearer  tok ")
    assert plain_read([bearer, (b"if-none-match", b'"v1"')]) == PlainRead("tok", '"v1"')
    assert plain_read([(b"accept", b"*/*"), bearer]) == PlainRead("tok", None)
    assert plain_read([bearer, (b"origin", b"https://portal.example")]) is None
    assert plain_read([(b"authorization", b"Basic dTpw")]) is None
    assert plain_read([(b"authorization", b"Bearer   ")]) is None
    assert plain_read([]) is None
