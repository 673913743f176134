"""The web components' bundle as notifications serves it: headers, caching, integrity, size,
and the demo page. No infrastructure: the routes read only the packaged file."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tangible_notifications.bootstrap import bootstrap
from tangible_notifications.config import Settings
from tangible_notifications.entrypoints.elements import DemoConfig, bundle, render_demo_page

ROOT = Path(__file__).resolve().parents[4]
BUNDLE = ROOT / "services/notifications/src/tangible_notifications/static/elements/v1/tangible-elements.js"
READMES = ("README.md", "services/notifications/README.md", "web/elements/README.md")
BUDGET_GZIPPED = 35_000  # bytes, the whole bundle


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = bootstrap(Settings(), configure_logs=False)  # lifespan not started: no Kafka, no database
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://n") as client:
        yield client


def sri(body: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


async def test_the_bundle_is_served_public_immutable_with_a_strong_etag(client: httpx.AsyncClient) -> None:
    response = await client.get("/elements/v1/tangible-elements.js")
    assert response.status_code == 200
    assert response.content == BUNDLE.read_bytes()
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    etag = response.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{96}"', etag), "strong (no W/) and derived from the content"
    assert etag == f'"{hashlib.sha384(response.content).hexdigest()}"'

    again = await client.get("/elements/v1/tangible-elements.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["cache-control"].endswith("immutable")
    other = await client.get("/elements/v1/tangible-elements.js", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200

    head = await client.head("/elements/v1/tangible-elements.js")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(BUNDLE.read_bytes()))


async def test_the_bundle_needs_no_credentials_and_is_not_in_the_api_description(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/elements/v1/tangible-elements.js", headers={"Origin": "https://vendor.example"}
    )
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith("/elements")]


def test_the_readmes_publish_the_bundles_integrity_hash() -> None:
    expected = sri(BUNDLE.read_bytes())
    assert bundle().integrity == expected
    found = {readme: re.findall(r"sha384-[A-Za-z0-9+/=]+", (ROOT / readme).read_text()) for readme in READMES}
    assert all(found.values()), f"every README names the hash: {found}"
    assert {h for hashes in found.values() for h in hashes} == {expected}, (
        "rebuilt the bundle? put its new hash in the READMEs"
    )


def test_the_whole_bundle_is_within_its_size_budget() -> None:
    size = len(gzip.compress(BUNDLE.read_bytes(), compresslevel=9))
    print(f"tangible-elements.js: {len(BUNDLE.read_bytes())} bytes, {size} bytes gzipped")
    assert size <= BUDGET_GZIPPED


async def test_the_demo_page_embeds_the_bundle_with_its_integrity(client: httpx.AsyncClient) -> None:
    response = await client.get("/elements/demo")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert f'<script src="v1/tangible-elements.js" integrity="{bundle().integrity}"' in page
    for element in ("tangible-value", "tangible-entitlements", "tangible-milestones", "tangible-rewards"):
        assert f"<{element}>" in page
    assert "<tangible-inbox>" in page
    assert '<script type="application/json" id="tangible-demo-config">null</script>' in page


def test_a_rendered_demo_page_carries_its_configuration_safely_inside_the_script() -> None:
    config = DemoConfig(
        "http://e", "http://r", "http://n", "acct-1", "</script><script>alert(1)</script>", locale="de"
    )
    page = render_demo_page(config)
    assert "</script><script>alert(1)" not in page
    assert '"account": "acct-1"' in page and '"locale": "de"' in page
    assert "\\u003c/script\\u003e" in page


def test_the_readmes_state_the_bundles_measured_size() -> None:
    """The figure `make elements` writes (Node's zlib; Python's may differ by a few bytes)."""
    gzipped = len(gzip.compress(BUNDLE.read_bytes(), compresslevel=9)) / 1000
    for readme in ("README.md", "web/elements/README.md"):
        stated = [float(x) for x in re.findall(r"\b(\d+\.\d) kB gzipped", (ROOT / readme).read_text())]
        assert stated, f"{readme} states the bundle's gzipped size"
        assert all(abs(x - gzipped) <= 0.1 for x in stated), (readme, stated, gzipped)
        assert all(x * 1000 <= BUDGET_GZIPPED for x in stated)
