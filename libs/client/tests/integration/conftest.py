"""Fixtures of the client's integration tests: the real usage-ingest, and a Kafka link to cut."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiokafka.protocol import metadata

from tangible_devstack.pytest_plugin import DatabaseFactory
from tangible_ingest.config import Settings
from tangible_runtime.settings import AuthSettings, KafkaSettings

MIGRATIONS = Path(__file__).resolve().parents[4] / "services" / "usage-ingest" / "migrations"
METADATA_API_KEY = 3
Edit = Callable[[bytes], bytes]


class KafkaProxy:
    """A TCP proxy in front of one Kafka broker whose link can be cut and restored."""

    # Kafka clients bootstrap once, then connect to the address the broker advertises
    # in Metadata responses; the proxy rewrites that address to its own, or clients
    # would bypass it after the first request.

    def __init__(self, upstream: str) -> None:
        host, port = upstream.split(",")[0].rsplit(":", 1)
        self._upstream = (host, int(port))
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self.port = 0
        self.open = True

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        """Drop every connection and refuse new ones, as a network partition would."""
        self.open = False
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    def restore(self) -> None:
        self.open = True

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if not self.open:
            client_writer.transport.abort()
            return
        try:
            broker_reader, broker_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            client_writer.transport.abort()
            return
        self._links |= {client_writer, broker_writer}
        in_flight: dict[bytes, tuple[int, int]] = {}  # correlation id → (api key, version)
        try:
            await asyncio.gather(
                self._pump(client_reader, broker_writer, lambda frame: self._note(frame, in_flight)),
                self._pump(broker_reader, client_writer, lambda frame: self._rewrite(frame, in_flight)),
            )
        except (OSError, asyncio.IncompleteReadError):
            pass  # either side went away, or cut() aborted the link
        finally:
            for writer in (client_writer, broker_writer):
                self._links.discard(writer)
                writer.transport.abort()

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, edit: Edit) -> None:
        while True:
            size = await reader.readexactly(4)
            frame = edit(await reader.readexactly(int.from_bytes(size, "big")))
            writer.write(len(frame).to_bytes(4, "big") + frame)
            await writer.drain()

    @staticmethod
    def _note(request: bytes, in_flight: dict[bytes, tuple[int, int]]) -> bytes:
        api_key, version = int.from_bytes(request[0:2], "big"), int.from_bytes(request[2:4], "big")
        in_flight[request[4:8]] = (api_key, version)
        return request

    def _rewrite(self, response: bytes, in_flight: dict[bytes, tuple[int, int]]) -> bytes:
        api_key, version = in_flight.pop(response[:4], (-1, -1))
        if api_key != METADATA_API_KEY:
            return response
        # aiokafka speaks Metadata v0–v5: no flexible versions, so header = correlation id
        decoded = getattr(metadata, f"MetadataResponse_v{version}").decode(response[4:])
        decoded.brokers = [(b[0], "127.0.0.1", self.port, *b[3:]) for b in decoded.brokers]
        return response[:4] + bytes(decoded.encode())


@pytest.fixture
async def kafka_proxy(kafka_settings: KafkaSettings) -> AsyncIterator[KafkaProxy]:
    proxy = KafkaProxy(kafka_settings.bootstrap_servers)
    await proxy.start()
    try:
        yield proxy
    finally:
        with contextlib.suppress(Exception):
            await proxy.stop()


@pytest.fixture
async def ingest_settings(
    database_factory: DatabaseFactory, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> Settings:
    url = await database_factory("usage-ingest", MIGRATIONS)
    return Settings(database_url=url, kafka=kafka_settings, auth=auth_settings, retry_after_seconds=1)
