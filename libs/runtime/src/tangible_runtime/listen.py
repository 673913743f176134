"""LISTEN on a PostgreSQL channel from one pooled connection, reconnecting when it is lost.

NOTIFY is transactional: a notification is delivered when (and only if) the transaction that
sent it commits, in commit order, to every connection listening on the channel. That makes
it the cheapest way for one process to learn, within milliseconds, that another committed
something: the outbox relays wake on it, the rewards API replicas drop the progress a commit
changed. Behind a transaction-pooling proxy (PgBouncer) LISTEN receives nothing; callers keep
a fallback (a poll, a short cache life) for as long as `listening` is false.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from tangible_runtime.retries import Backoff, retrying

LISTEN_BACKOFF = Backoff(first=0.2, maximum=5.0, jitter=0.1)
# a test query slower than this means the connection is gone: generous, since a busy
# database answering slowly is not a lost connection (each loss drops what callers keep)
PROBE_TIMEOUT = 5.0


class ChannelListener:
    """Calls `on_notify(payload)` for every notification on `channel`; `on_listening(state)`
    when listening starts (after the LISTEN took effect: anything committed before is not
    announced, so the caller treats it as unknown) and when the connection is lost."""

    def __init__(self, engine: AsyncEngine, channel: str, *, check_seconds: float = 30.0) -> None:
        self._engine = engine
        self._channel = channel
        self._check_seconds = check_seconds  # how often a quiet connection is tested
        self.listening = False

    async def run(
        self, on_notify: Callable[[str], None], on_listening: Callable[[bool], None] | None = None
    ) -> None:
        # `_listen` only returns by raising (the database restarting, a dropped connection)
        await retrying(
            lambda: self._listen(on_notify, on_listening),
            backoff=LISTEN_BACKOFF,
            log_event="channel_listener_reconnecting",
        )

    async def _listen(
        self, on_notify: Callable[[str], None], on_listening: Callable[[bool], None] | None
    ) -> None:
        def notified(_connection: object, _pid: int, _channel: str, payload: str) -> None:
            on_notify(payload)

        async with self._engine.connect() as connection:
            driver: asyncpg.Connection = (await connection.get_raw_connection()).driver_connection
            lost = asyncio.Event()

            def closed(_: object) -> None:
                lost.set()

            driver.add_termination_listener(closed)
            await driver.add_listener(self._channel, notified)
            try:
                self.listening = True
                if on_listening is not None:
                    on_listening(True)
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), self._check_seconds)
                    except TimeoutError:
                        await asyncio.wait_for(driver.fetchval("SELECT 1"), PROBE_TIMEOUT)
                raise ConnectionError("the listening connection closed")
            finally:
                self.listening = False
                if on_listening is not None:
                    on_listening(False)
                driver.remove_termination_listener(closed)  # the connection goes back to the pool
                if not driver.is_closed():
                    # bounded: on a connection that hangs, reconnecting must not wait on it
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(driver.remove_listener(self._channel, notified), 5.0)
