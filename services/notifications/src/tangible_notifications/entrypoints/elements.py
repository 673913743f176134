"""Tangible's web components, served by notifications: the bundle at a stable, versioned
path and a demo page that embeds it.

The bundle is a public static file (no credentials, no tenant data): any origin may load it
(`Access-Control-Allow-Origin: *`, so that `<script integrity=… crossorigin=anonymous>` works
cross-origin), caches keep it for a year, and its strong ETag is its SHA-384, which is also
the Subresource Integrity hash vendors pin (README). The source is `web/elements/`; the file
is committed here (and shipped in the wheel) by `npm run build` there, and a test rebuilds it
and compares bytes, so source and artifact cannot drift.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

BUNDLE_PATH = "/elements/v1/tangible-elements.js"
DEMO_PATH = "/elements/demo"
CACHE_FOREVER = "public, max-age=31536000, immutable"
JAVASCRIPT = "text/javascript; charset=utf-8"


@dataclass(frozen=True)
class Asset:
    body: bytes
    integrity: str  # "sha384-<base64>"
    etag: str  # strong: the quoted hex SHA-384


def integrity_of(body: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


@lru_cache(maxsize=1)
def bundle() -> Asset:
    body = files("tangible_notifications").joinpath("static/elements/v1/tangible-elements.js").read_bytes()
    return Asset(body, integrity_of(body), f'"{hashlib.sha384(body).hexdigest()}"')


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = [c.strip() for c in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


router = APIRouter(include_in_schema=False)


@router.api_route(BUNDLE_PATH, methods=["GET", "HEAD"])
async def elements_bundle(request: Request) -> Response:
    asset = bundle()
    headers = {
        "Cache-Control": CACHE_FOREVER,
        "ETag": asset.etag,
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if _matches(request.headers.get("if-none-match", ""), asset.etag):
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else asset.body
    headers["Content-Length"] = str(len(asset.body))
    return Response(body, media_type=JAVASCRIPT, headers=headers)


@dataclass(frozen=True)
class DemoConfig:
    """What the demo page passes to `Tangible.configure` (token: an account-scoped read token)."""

    entitlements_url: str
    rewards_url: str
    notifications_url: str
    account: str
    token: str
    user: str | None = None
    locale: str | None = None
    poll_interval_ms: int | None = None

    def options(self) -> dict[str, object]:
        options: dict[str, object] = {
            "entitlementsUrl": self.entitlements_url,
            "rewardsUrl": self.rewards_url,
            "notificationsUrl": self.notifications_url,
            "account": self.account,
            "token": self.token,
        }
        if self.user:
            options["user"] = self.user
        if self.locale:
            options["locale"] = self.locale
        if self.poll_interval_ms:
            options["pollInterval"] = self.poll_interval_ms
        return options


def _script_json(value: object) -> str:
    """JSON that is safe inside a <script> element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_demo_page(config: DemoConfig | None = None, *, bundle_src: str = "v1/tangible-elements.js") -> str:
    """The demo page. With `config`, it is embedded in the page; without, the page reads it from
    its URL fragment (never sent to a server): `#entitlements=URL&rewards=URL&notifications=URL&
    account=ID&token=JWT[&user=ID&locale=de&theme=dark&poll=MS]` (`notifications` defaults to
    the service that served the page). `bundle_src` is relative to /elements/demo."""
    embedded = _script_json(config.options() if config else None)
    return (
        DEMO_TEMPLATE.replace("{{INTEGRITY}}", bundle().integrity)
        .replace("{{SRC}}", bundle_src)
        .replace("{{CONFIG}}", embedded)
    )


@router.get(DEMO_PATH)
async def elements_demo() -> HTMLResponse:
    return HTMLResponse(render_demo_page(), headers={"Cache-Control": "no-store"})


DEMO_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Tangible elements: demo</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; background: Canvas; color: CanvasText; }
  body.dark { background: #0d0f14; color: #eef0f5; color-scheme: dark; }
  body.light { background: #eef1f6; color: #1b1f29; color-scheme: light; }
  header { display: flex; gap: 16px; align-items: center; justify-content: space-between;
           flex-wrap: wrap; padding: 12px 24px; border-bottom: 1px solid #8884; }
  header h1 { font-size: 18px; margin: 0; }
  main { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr));
         gap: 16px; padding: 24px; align-items: start; }
  label { margin-right: 12px; }
  #help { padding: 24px; max-width: 60em; }
  #help[hidden] { display: none; }
  code { word-break: break-all; }
</style>
<script type="application/json" id="tangible-demo-config">{{CONFIG}}</script>
<script src="{{SRC}}" integrity="{{INTEGRITY}}" crossorigin="anonymous"></script>
</head>
<body>
<header>
  <h1>Tangible elements</h1>
  <div>
    <label>Language
      <select id="locale"><option value="en">English</option><option value="de">Deutsch</option></select>
    </label>
    <label>Theme
      <select id="theme">
        <option value="auto">System</option><option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
    <tangible-inbox></tangible-inbox>
  </div>
</header>
<section id="help" hidden>
  <h2>No configuration</h2>
  <p>Open this page with its configuration in the URL fragment (never sent to a server):</p>
  <p><code>/elements/demo#entitlements=URL&amp;rewards=URL&amp;notifications=URL&amp;account=ID&amp;token=JWT</code>
  </p>
  <p>The token is an account-scoped read token:
     <code>python -m tangible_devstack elements-demo --account ID</code>
     prints such a URL for <code>make run</code>.</p>
</section>
<main>
  <tangible-value></tangible-value>
  <tangible-entitlements></tangible-entitlements>
  <tangible-milestones></tangible-milestones>
  <tangible-rewards></tangible-rewards>
</main>
<script>
(function () {
  var embedded = JSON.parse(document.getElementById("tangible-demo-config").textContent);
  var fragment = new URLSearchParams(location.hash.slice(1));
  var here = new URL("..", location.href).href.replace(/\\/$/, "");
  var config = embedded || (fragment.get("account") && {
    entitlementsUrl: fragment.get("entitlements"),
    rewardsUrl: fragment.get("rewards"),
    notificationsUrl: fragment.get("notifications") || here,
    account: fragment.get("account"),
    token: fragment.get("token"),
    user: fragment.get("user") || undefined,
    locale: fragment.get("locale") || undefined,
    pollInterval: fragment.get("poll") ? Number(fragment.get("poll")) : undefined
  });
  var theme = fragment.get("theme") || "auto";
  var locale = document.getElementById("locale");
  var themes = document.getElementById("theme");
  function applyTheme(value) {
    document.body.className = value === "auto" ? "" : value;
    var tags = "tangible-value, tangible-entitlements, tangible-milestones, tangible-rewards, tangible-inbox";
    document.querySelectorAll(tags).forEach(function (el) {
      if (value === "auto") el.removeAttribute("theme"); else el.setAttribute("theme", value);
    });
  }
  themes.value = theme;
  applyTheme(theme);
  themes.addEventListener("change", function () { applyTheme(themes.value); });
  if (!config) { document.getElementById("help").hidden = false; return; }
  locale.value = (config.locale || "en").slice(0, 2);
  document.documentElement.lang = locale.value;
  locale.addEventListener("change", function () {
    document.documentElement.lang = locale.value;
    Tangible.configure({ locale: locale.value });
  });
  Tangible.configure(config);
})();
</script>
</body>
</html>
"""
