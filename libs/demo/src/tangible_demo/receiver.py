"""A webhook receiver on loopback that verifies Standard Webhooks signatures, like a
customer's endpoint would: a bad signature gets 401 (and notifications retries), a good
one 204; repeated `webhook-id`s are counted once."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.types import Receive, Scope, Send

from tangible_devstack.processes import free_port


@dataclass(frozen=True)
class Received:
    path: str
    webhook_id: str
    payload: dict[str, Any]

    @property
    def event_type(self) -> str:
        return str(self.payload.get("data", {}).get("event", {}).get("type", self.payload.get("type", "")))


@dataclass
class WebhookReceiver:
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    secrets: dict[str, str] = field(default_factory=dict)  # path → whsec_ secret
    received: dict[str, Received] = field(default_factory=dict)  # webhook-id → first delivery
    attempts: Counter[str] = field(
        default_factory=Counter
    )  # verified, redelivered, bad-signature, unknown-path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        status = self.accept(scope["path"], headers, body)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def accept(self, path: str, headers: dict[str, str], body: bytes) -> int:
        secret = self.secrets.get(path)
        if secret is None:
            self.attempts["unknown-path"] += 1
            return 404
        try:
            Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            self.attempts["bad-signature"] += 1
            return 401
        webhook_id = headers["webhook-id"]
        if webhook_id in self.received:
            self.attempts["redelivered"] += 1  # a retry of one already received: dedupe on webhook-id
        else:
            self.attempts["verified"] += 1
            self.received[webhook_id] = Received(path, webhook_id, json.loads(body))
        return 204

    def snapshot(self) -> WebhookReceiver:
        """What it has received so far, kept still while the receiver goes on serving."""
        return dataclasses.replace(self, received=dict(self.received), attempts=Counter(self.attempts))

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received.values() if r.path == path]

    async def serve(self) -> _Serving:
        server = uvicorn.Server(
            uvicorn.Config(self, host=self.host, port=self.port, log_level="warning", lifespan="off")
        )
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()  # raises why it could not start
            await asyncio.sleep(0.02)
        return _Serving(server, task)


@dataclass
class _Serving:
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task
