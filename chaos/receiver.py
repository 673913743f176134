"""A webhook receiver that fails half the time: it verifies every request's Standard Webhooks
signature, answers 503 to a seeded coin flip, and otherwise acknowledges (204) and records
the webhook-id, so the run can tell whether anything was acknowledged twice."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tangible_devstack.processes import free_port, port_open


@dataclass
class WebhookReceiver:
    failure_rate: float = 0.5
    seed: int = 7
    port: int = field(default_factory=free_port)
    acknowledged: Counter[str] = field(default_factory=Counter)
    acknowledged_at: dict[str, list[float]] = field(default_factory=dict)  # webhook-id → monotonic times
    traceparents: dict[str, str] = field(default_factory=dict)  # webhook-id → its W3C trace context
    requests: int = 0
    failed: int = 0
    bad_signatures: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._verifier: Webhook | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/tangible"

    def trust(self, secret: str) -> None:
        """The channel's `whsec_` secret, known once the channel exists."""
        self._verifier = Webhook(secret)

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        self.requests += 1
        try:
            if self._verifier is None:
                raise WebhookVerificationError("no secret yet")
            self._verifier.verify(body, dict(request.headers))
        except WebhookVerificationError:
            self.bad_signatures += 1
            return Response(status_code=400)
        if self._rng.random() < self.failure_rate:
            self.failed += 1
            return Response(status_code=503)
        webhook_id = request.headers["webhook-id"]
        self.acknowledged[webhook_id] += 1
        self.traceparents[webhook_id] = request.headers.get("traceparent", "")
        self.acknowledged_at.setdefault(webhook_id, []).append(time.monotonic())
        return Response(status_code=204)

    def acknowledgements_since(self, began: float) -> dict[str, list[float]]:
        """Each webhook-id's acknowledgement times, in seconds since `began` (monotonic)."""
        return {w: [round(t - began, 2) for t in times] for w, times in self.acknowledged_at.items()}

    async def start(self) -> None:
        app = Starlette(routes=[Route("/hooks/tangible", self._hook, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        await wait_for_port_async(self.port)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task


async def wait_for_port_async(port: int, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await asyncio.to_thread(port_open, port):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"webhook receiver did not listen on {port}")
        await asyncio.sleep(0.05)
