"""The web components' demo page for a running system: its URL, with the configuration in
the fragment (never sent to a server), and an account-scoped read token for `make run`.

The page is notifications' `/elements/demo`; the fragment's keys are the ones it reads
(`tangible_notifications.entrypoints.elements.render_demo_page`). `make demo` can call
`demo_url` with the URLs and token it already has."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from tangible_devstack.paths import data_dir
from tangible_devstack.services import SERVICES
from tangible_runtime.auth import TokenIssuer


def demo_url(
    *,
    entitlements_url: str,
    rewards_url: str,
    notifications_url: str,
    account: str,
    token: str,
    page_url: str | None = None,
    user: str | None = None,
    locale: str | None = None,
    theme: str | None = None,
    poll_interval_ms: int | None = None,
) -> str:
    """`page_url`: where the demo page is (default: notifications' /elements/demo)."""
    fragment: dict[str, str] = {
        "entitlements": entitlements_url.rstrip("/"),
        "rewards": rewards_url.rstrip("/"),
        "notifications": notifications_url.rstrip("/"),
        "account": account,
        "token": token,
    }
    optional = {"user": user, "locale": locale, "theme": theme, "poll": poll_interval_ms}
    fragment.update({key: str(value) for key, value in optional.items() if value})
    page = page_url or f"{notifications_url.rstrip('/')}/elements/demo"
    return f"{page}#{urlencode(fragment)}"


def local_demo_url(
    account: str, *, tenant: str, user: str | None = None, locale: str | None = None, data: Path | None = None
) -> str:
    """For `make run`'s system: a 12-hour read token for `account`, signed with its key."""
    private_key = (data or data_dir()) / "auth" / "private.pem"
    if not private_key.exists():
        raise SystemExit(f"no signing key at {private_key}: start the system with `make run` first")
    issuer = TokenIssuer(str(private_key), issuer="tangible")
    token = issuer.issue(tenant_id=tenant, scopes=["read"], account_id=account, ttl=timedelta(hours=12)).token
    urls = {spec.name: f"http://127.0.0.1:{spec.listen_port}" for spec in SERVICES}
    return demo_url(
        entitlements_url=urls["entitlements"],
        rewards_url=urls["rewards"],
        notifications_url=urls["notifications"],
        account=account,
        token=token,
        user=user,
        locale=locale,
    )
