"""A response's head and body leave in one write; nothing is held past one turn of the loop."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from tangible_runtime.http_protocol import CoalescingHttpToolsProtocol, CoalescingTransport


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


@pytest.fixture
async def base() -> AsyncIterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app,
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
