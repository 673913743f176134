"""SyncTangibleClient: the async client on a private event loop thread, for code without asyncio."""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Coroutine, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

from tangible_client.client import ClientOptions, TangibleClient
from tangible_client.reports import DeliveryReport

T = TypeVar("T")


class SyncTangibleClient:
    """Blocking facade over TangibleClient; `on_delivery` runs on the client's own thread."""

    def __init__(self, base_url: str, **options: Unpack[ClientOptions]) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tangible-client", daemon=True)
        self._thread.start()
        self._client = TangibleClient(base_url, **options)
        self._closed = False
        # The loop thread is a daemon, so without this hook buffered events would be
        # lost when the interpreter exits without close().
        atexit.register(self.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def record(
        self,
        type: str,
        account_id: str,
        quantity: float = 1,
        *,
        user_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
        time: datetime | None = None,
        id: str | None = None,
        source: str | None = None,
    ) -> str:
        """Buffer one event and return its id; blocks while the buffer is full."""
        return self._call(
            self._client.record(
                type,
                account_id,
                quantity,
                user_id=user_id,
                properties=properties,
                time=time,
                id=id,
                source=source,
            )
        )

    def flush(self) -> list[DeliveryReport]:
        """Send everything recorded so far; return the reports no earlier flush returned."""
        return self._call(self._client.flush())

    def close(self, timeout: float | None = None) -> list[DeliveryReport]:
        """Flush, stop the client and its thread; return the remaining reports."""
        if self._closed:
            return []
        self._closed = True
        atexit.unregister(self.close)
        try:
            return self._call(self._client.aclose(timeout))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()
