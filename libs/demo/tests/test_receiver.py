"""The demo's webhook receiver verifies Standard Webhooks signatures like a customer would."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from tangible_demo.receiver import WebhookReceiver

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
BODY = json.dumps(
    {"type": "x", "data": {"title": "t", "event": {"type": "tangible.rewards.v1.reward_granted"}}}
)


def _signed(webhook_id: str = "msg-1", body: str = BODY, secret: str = SECRET) -> dict[str, str]:
    now = datetime.now(UTC)
    signature = Webhook(secret).sign(webhook_id, now, body)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


async def test_signed_deliveries_are_kept_once_and_forged_ones_refused_over_http() -> None:
    receiver = WebhookReceiver(secrets={"/hooks/product": SECRET})
    serving = await receiver.serve()
    try:
        async with httpx.AsyncClient(base_url=receiver.url) as client:
            ok = await client.post("/hooks/product", content=BODY, headers=_signed())
            again = await client.post("/hooks/product", content=BODY, headers=_signed())
            tampered = await client.post(
                "/hooks/product", content=BODY.replace("t", "T"), headers=_signed("msg-2")
            )
            other_key = "whsec_" + base64.b64encode(os.urandom(32)).decode()
            forged = await client.post(
                "/hooks/product", content=BODY, headers=_signed("msg-3", secret=other_key)
            )
            unknown = await client.post("/hooks/elsewhere", content=BODY, headers=_signed("msg-4"))
    finally:
        await serving.stop()
    assert (ok.status_code, again.status_code) == (204, 204)
    assert (tampered.status_code, forged.status_code, unknown.status_code) == (401, 401, 404)
    assert list(receiver.received) == ["msg-1"]
    assert receiver.received["msg-1"].event_type == "tangible.rewards.v1.reward_granted"
    assert receiver.attempts == {"verified": 1, "redelivered": 1, "bad-signature": 2, "unknown-path": 1}
