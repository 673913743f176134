"""The dead-letters CLI asks the routes the way the API documents them."""

from __future__ import annotations

import json

import httpx
import pytest

from tangible_runtime.dead_letters_cli import main


def _recording(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"replayed": ["0-1"], "skipped": []})

    return httpx.MockTransport(handle)


def test_replay_sends_the_selection_with_the_admin_token(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[httpx.Request] = []
    argv = ["--url", "http://svc", "--token", "t0k", "replay", "entitlements-usage"]
    code = main([*argv, "--reason", "unknown_account", "--id", "0-1"], transport=_recording(seen))
    assert code == 0
    [request] = seen
    assert (request.method, request.url.path) == ("POST", "/v1/dead-letters/entitlements-usage/replay")
    assert request.headers["authorization"] == "Bearer t0k"
    assert json.loads(request.content) == {"reason": "unknown_account", "ids": ["0-1"]}
    assert json.loads(capsys.readouterr().out)["replayed"] == ["0-1"]


def test_list_and_show_read_the_routes() -> None:
    seen: list[httpx.Request] = []
    base = ["--url", "http://svc", "--token", "t"]
    main(
        [*base, "list", "rewards-usage", "--reason", "handler_failed", "--limit", "5"],
        transport=_recording(seen),
    )
    main([*base, "show", "rewards-usage", "0-7"], transport=_recording(seen))
    assert seen[0].url.path == "/v1/dead-letters/rewards-usage"
    assert dict(seen[0].url.params) == {"reason": "handler_failed", "offset": "0", "limit": "5"}
    assert seen[1].url.path == "/v1/dead-letters/rewards-usage/records/0-7"


def test_a_time_range_goes_as_given_to_list_and_replay() -> None:
    seen: list[httpx.Request] = []
    base = ["--url", "http://svc", "--token", "t"]
    since, until = "2026-12-01T00:00:00Z", "2026-12-02T00:00:00+01:00"
    window = ["--since", since, "--until", until]
    main([*base, "list", "entitlements-usage", *window], transport=_recording(seen))
    main([*base, "replay", "entitlements-usage", *window], transport=_recording(seen))
    listed, replayed = seen
    assert dict(listed.url.params) == {"since": since, "until": until, "offset": "0", "limit": "100"}
    assert (replayed.method, replayed.url.path) == ("POST", "/v1/dead-letters/entitlements-usage/replay")
    assert json.loads(replayed.content) == {"since": since, "until": until}
