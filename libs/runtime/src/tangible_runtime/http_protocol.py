"""uvicorn's httptools protocol, with a response's head and body leaving in one write.

uvicorn writes the status line and headers when the app sends `http.response.start` and the
body when it sends `http.response.body`; uvloop passes each write to the socket at once, so
a small response costs two `write` system calls and two TCP segments. On the check API's hot
path (a few hundred bytes, answered from memory) those two calls were the largest cost of a
request. Here a write that finds nothing pending is held until the next write (which then
sends both together) or, at the latest, the next turn of the event loop: a streaming
response's head is not held back any longer than that.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


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
    """`uvicorn.Config(http=...)`: every connection writes through a CoalescingTransport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # flow control (pause/resume reading) keeps the real transport; only writes are joined
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
