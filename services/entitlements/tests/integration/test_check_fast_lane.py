"""The check fast lane served by the service's own HTTP protocol answers in uvicorn's parser
callback (no ASGI call), with the same status, body and headers the app gives the same
request; what it does not answer plainly (`?at=`, a bad or missing credential, an unknown
account or feature) reaches the app's routes and their problem details, as before."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tangible_devstack.testing import eventually, serving

pytestmark = pytest.mark.integration

CHECK = "/v1/accounts/acct-1/entitlements/reports"


def _seen(response: httpx.Response) -> tuple[int, bytes, str | None, str | None, str | None]:
    h = response.headers
    return (
        response.status_code,
        response.content,
        h.get("etag"),
        h.get("content-type"),
        h.get("cache-control"),
    )


async def test_the_protocol_answers_a_check_as_the_app_does(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = service
    await h.provision()
    read = h.headers("read")

    async def licensed() -> None:
        assert (await h.client.get(CHECK, headers=read)).status_code == 200
        # the route answers from the database until the view has followed the license's
        # event; the fast lane only from the view
        assert h.in_view("acct-1")

    await eventually(licensed)
    asgi_calls: list[str] = []
    serve = h.app.fast_lane.serve

    async def counted_serve(scope: Any, send: Any) -> bool:
        asgi_calls.append(scope["path"])
        return bool(await serve(scope, send))

    monkeypatch.setattr(h.app.fast_lane, "serve", counted_serve)
    plain = [CHECK, "/v1/accounts/acct-1/entitlements"]
    through_the_app = [
        (f"{CHECK}?at=2026-11-01T00:00:00Z", read),
        ("/v1/accounts/acct-1/entitlements/no-such-feature", read),
        ("/v1/accounts/acct-unknown/entitlements", read),
        (CHECK, {"Authorization": "Bearer not-a-token"}),
        (CHECK, {}),
        (CHECK, h.headers("read", account_id="acct-2")),  # another account's token
    ]
    async with serving(h.app) as base, httpx.AsyncClient(base_url=base) as over_tcp:
        for path in plain:
            in_process = await h.client.get(path, headers=read)
            asgi_calls.clear()
            answered = await over_tcp.get(path, headers=read)
            assert _seen(answered) == _seen(in_process) and answered.status_code == 200
            assert asgi_calls == []  # answered before any ASGI call
            unchanged = await over_tcp.get(path, headers={**read, "If-None-Match": answered.headers["etag"]})
            assert (unchanged.status_code, unchanged.content) == (304, b"")
            assert unchanged.headers["etag"] == answered.headers["etag"] and asgi_calls == []
        for path, headers in through_the_app:
            in_process = await h.client.get(path, headers=headers)
            asgi_calls.clear()
            answered = await over_tcp.get(path, headers=headers)
            assert _seen(answered) == _seen(in_process), path
            assert asgi_calls == [path.partition("?")[0]]  # the app's path answered it
        assert (
            await over_tcp.get(CHECK, headers={**read, "Origin": "https://app.example"})
        ).status_code == 200
    metrics = (await h.client.get("/metrics")).text
    route = 'route="/v1/accounts/{account_id}/entitlements/{feature_key}"'
    assert any(
        route in line and 'status="304"' in line and not line.endswith(" 0.0")
        for line in metrics.splitlines()
    )
