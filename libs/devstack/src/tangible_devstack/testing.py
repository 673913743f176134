"""Helpers for tests that run services in-process against real infrastructure."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
import uvicorn
from aiokafka import ConsumerRecord, TopicPartition
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from starlette.types import ASGIApp

from tangible_devstack.processes import free_port
from tangible_runtime.http_protocol import CoalescingHttpToolsProtocol
from tangible_runtime.kafka import KafkaClients

T = TypeVar("T")


@asynccontextmanager
async def running(app: FastAPI, *, startup_timeout: float = 60) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan (infrastructure and workers) and yield an HTTP client."""
    async with LifespanManager(app, startup_timeout=startup_timeout, shutdown_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port and yield its base URL, for
    services that call it over HTTP. Its lifespan is not run here: start the app with
    `running` first (the same app object may be both). Through the services' own HTTP
    protocol (`tangible_runtime.http_protocol`), as `serve` runs them."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        http=CoalescingHttpToolsProtocol,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def eventually(
    probe: Callable[[], Awaitable[T]], *, timeout: float = 15.0, interval: float = 0.05
) -> T:
    """Retry `probe` until it stops failing; re-raise the last failure on timeout. A probe of
    something not there yet fails with an assertion, or reading it: a missing key or index
    (a 404 problem instead of the resource), a short unpacking (`[only] = found`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await probe()
        except (AssertionError, LookupError, ValueError):
            if loop.time() > deadline:
                raise
            await asyncio.sleep(interval)


async def wait_ready(client: httpx.AsyncClient, *, timeout: float = 60.0) -> None:
    async def probe() -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200, response.text

    await eventually(probe, timeout=timeout, interval=0.1)


async def read_topic(clients: KafkaClients, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on the topic right now, read up to the end offsets of all its partitions:
    unlike polling until an empty fetch, a consumer slow to start cannot return a short read."""
    name = clients.topic(topic)
    admin = clients.admin()
    await admin.start()
    try:
        [described] = await admin.describe_topics([name])
    finally:
        await admin.close()
    partitions = sorted(TopicPartition(name, p["partition"]) for p in described["partitions"])
    if not partitions:  # the topic does not exist (yet)
        return []
    consumer = clients.consumer(group=None)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=200)
            records.extend(r for rs in batches.values() for r in rs)
        return records
    finally:
        await consumer.stop()


# W3C trace context, version 00: neither id may be all zeros
_TRACEPARENT = re.compile(r"00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")


def traceparent_of(record: ConsumerRecord[bytes, bytes]) -> str:
    """The record's one `traceparent` header, asserted to be a valid W3C trace context."""
    values = [value for name, value in record.headers if name == "traceparent"]
    assert len(values) == 1, (record.topic, record.offset, record.headers)
    value: str = values[0].decode("latin-1")
    assert _TRACEPARENT.fullmatch(value), value
    return value


def records_of_type(
    records: list[ConsumerRecord[bytes, bytes]], event_type: str
) -> list[ConsumerRecord[bytes, bytes]]:
    """The records whose CloudEvents `ce_type` header is `event_type`."""
    wanted = event_type.encode()
    return [r for r in records if ("ce_type", wanted) in r.headers]
