"""uvicorn's httptools protocol, with a response's head and body leaving in one write.

uvicorn writes the status line and headers when the app sends `http.response.start` and the
body when it sends `http.response.body`; uvloop passes each write to the socket at once, so
a small response costs two `write` system calls and two TCP segments. On the check API's hot
path (a few hundred bytes, answered from memory) those two calls were the largest cost of a
request. Here a write that finds nothing pending is held until the next write (which then
sends both together) or, at the latest, the next turn of the event loop: a streaming
response's head is not held back any longer than that.

An app may also answer some requests *before* uvicorn makes an ASGI task for them: a
`SyncAnswerer` (the app's `answer_now`) is asked in the parser's callback, for plain GET
requests of HTTP/1.1 that are not queued behind another in flight, and its `Answer` is
written at once. The request, cycle, event and task uvicorn builds per request cost several
times what the entitlements check itself costs (docs/performance.md); anything the answerer
declines takes uvicorn's usual path, to the same app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole response: status, headers (lower-case names, as ASGI's), body."""

    status: int
    headers: Sequence[tuple[bytes, bytes]]
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class PlainRead:
    """What a fast lane needs of a request's headers: its bearer token and `If-None-Match`."""

    token: str
    if_none_match: str | None


def plain_read(headers: Sequence[tuple[bytes, bytes]]) -> PlainRead | None:
    """The credential of a request a fast lane may answer; None for a browser's call (an
    `Origin`: the CORS middleware must answer it) and for one without a bearer token (the
    regular route answers with the problem details)."""
    authorization = if_none_match = None
    for name, value in headers:
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"if-none-match":
            if_none_match = value.decode("latin-1")
        elif name == b"origin":
            return None
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return PlainRead(token.strip(), if_none_match)


# (path, headers) of a plain GET → its answer now, or None: uvicorn's usual path answers it
SyncAnswerer = Callable[[str, Sequence[tuple[bytes, bytes]]], Answer | None]


def answerer_of(app: Any) -> SyncAnswerer | None:
    """The `answer_now` of the app, looked for through uvicorn's wrappers (`.app`)."""
    while app is not None:
        found: SyncAnswerer | None = getattr(app, "answer_now", None)
        if found is not None:
            return found
        app = getattr(app, "app", None)
    return None


class _Answered:
    """The cycle of a request answered in the parser callback: complete from the start
    (uvicorn reads `response_complete`, and sets `message_event` when the peer leaves)."""

    response_complete = True
    keep_alive = True
    disconnected = False

    class message_event:  # noqa: N801 - the attribute uvicorn calls `.set()` on
        @staticmethod
        def set() -> None:
            return None


ANSWERED = _Answered()


class CoalescingTransport:
    """Delegates to the socket's transport; holds one write back to join it with the next."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending = b""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            self.flush()  # the empty body of a 304 or HEAD: nothing to wait for
        elif self._pending:
            joined, self._pending = self._pending + bytes(data), b""
            self._transport.write(joined)
        else:
            self._pending = bytes(data)
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        if self._pending and not self._transport.is_closing():
            self._transport.write(self._pending)
        self._pending = b""

    def get_write_buffer_size(self) -> int:
        return len(self._pending) + self._transport.get_write_buffer_size()

    def write_whole(self, data: bytes) -> None:
        """A whole response in one piece: nothing to join it with, so out at once (after
        anything still held, which keeps the order)."""
        self.flush()
        self._transport.write(data)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()  # a response followed by `connection: close` still goes out
        self._transport.close()

    def abort(self) -> None:
        self._pending = b""
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """`uvicorn.Config(http=...)`: every connection writes through a CoalescingTransport,
    and the app's `answer_now` (if it has one) answers what it can before any task is made."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # flow control (pause/resume reading) keeps the real transport; only writes are joined
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
        self._answer_now = answerer_of(self.app) if not self.root_path else None

    def on_headers_complete(self) -> None:
        if self._answer_now is None or not self._answered_now(self._answer_now):
            super().on_headers_complete()

    def _answered_now(self, answer_now: SyncAnswerer) -> bool:
        parser = self.parser
        if self.cycle is not None and not self.cycle.response_complete:
            return False  # pipelined behind a request in flight: answers leave in order
        if parser.get_method() != b"GET" or parser.get_http_version() != "1.1" or parser.should_upgrade():
            return False
        url = httptools.parse_url(self.url)
        if url.query or b"%" in url.path:
            return False
        answer = answer_now(url.path.decode("ascii"), self.headers)
        if answer is None:
            return False
        self.scope["method"] = "GET"  # what uvicorn would have set (logs of a later error)
        keep_alive = parser.should_keep_alive()
        head = [STATUS_LINE[answer.status]]
        for name, value in (*self.server_state.default_headers, *answer.headers):
            head += [name, b": ", value, b"\r\n"]
        if not keep_alive:
            head.append(b"connection: close\r\n")
        head.append(b"\r\n")
        transport: CoalescingTransport = self.transport  # type: ignore[assignment]
        transport.write_whole(b"".join(head) + answer.body)
        self.cycle = ANSWERED  # type: ignore[assignment]
        if not keep_alive:
            self.transport.close()
        self.on_response_complete()  # as uvicorn's own cycle ends: keep-alive timer, pipeline
        return True
