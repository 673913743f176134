"""While a serving process starts in the background (waiting for Kafka), its API answers
503 with Retry-After instead of reaching routes whose container does not exist yet; the
probes and metrics answer throughout."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from tangible_runtime.service import ServiceRuntime

_ALWAYS = ("/healthz", "/readyz", "/metrics")
RETRY_AFTER_SECONDS = 5


class StartingGate:
    def __init__(self, app: ASGIApp, *, runtime: ServiceRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = self.runtime.startup_detail
        if (
            not self.runtime.bind_before_ready
            or detail is None
            or scope["type"] != "http"
            or scope.get("path", "") in _ALWAYS
        ):
            await self.app(scope, receive, send)
            return
        body = orjson.dumps(
            {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": f"The service is starting ({detail}); retry shortly.",
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
