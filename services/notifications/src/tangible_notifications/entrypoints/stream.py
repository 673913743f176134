"""`GET /v1/accounts/{account_id}/stream`: the account's live events, for the customer-facing
components (server-sent events; see `tangible_runtime.sse` for ids, resumption and who sees
what). Served by notifications, the customer-facing service; fed by the events every service
already publishes on Kafka, followed by this process's `LiveHub`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from tangible_notifications.entrypoints.dependencies import Container
from tangible_runtime.app import ReadPrincipal, authenticate
from tangible_runtime.problems import ProblemError
from tangible_runtime.sse import account_events
from tangible_schemas.registry import ENTITLEMENTS, NOTIFICATIONS, REWARDS

router = APIRouter(prefix="/v1", tags=["live"])

TOPICS = [ENTITLEMENTS.name, REWARDS.name, NOTIFICATIONS.name]
# what a customer's page has no use for: counters roll up every batch (checks show them),
# webhook/email delivery logs are the vendor's
HIDDEN = {"tangible.entitlements.v1.usage_aggregated", "tangible.entitlements.v1.catalog_changed"}
NOTIFICATION_TYPES = ("tangible.notifications.v1.notification_delivered",)


def _shown(event_type: str, data: dict[str, Any]) -> bool:
    if event_type.startswith("tangible.notifications."):
        return event_type in NOTIFICATION_TYPES and data.get("channel") == "inbox"
    return True


@router.get(
    "/accounts/{account_id}/stream",
    summary="The account's live events (server-sent events; resume with Last-Event-ID)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def stream(
    account_id: str,
    request: Request,
    principal: ReadPrincipal,
    last_event_id: str | None = Header(default=None, max_length=200, description="Resume after this event."),
) -> StreamingResponse:
    principal.require_account(account_id)
    container: Container = request.app.state.container
    hub = container.live_hub
    if hub is None:  # only the API role follows the topics
        raise ProblemError(503, "live events are not served here", type_="stream-unavailable")

    def still_valid() -> None:
        authenticate(request)  # expired, revoked or invalidated since the stream opened: it ends

    events = account_events(
        hub,
        principal,
        account_id,
        last_event_id,
        still_valid,
        hidden_types=HIDDEN,
        shown=_shown,
        heartbeat=container.settings.stream_heartbeat_seconds,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)
