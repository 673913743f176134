"""SSRF guard: a webhook target must resolve to public addresses only, and we connect to
the address we checked (no second lookup that DNS rebinding could answer differently)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

from tangible_notifications.domain.errors import TargetRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Unresolvable(TargetRefused):
    """The host does not resolve (now): worth another try later, unlike a private address."""


@dataclass(frozen=True)
class Target:
    url: httpx.URL
    address: IPAddress

    def pinned(self) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
        """(URL with the checked address, Host header, TLS server name) for httpx."""
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        default_port = {"http": 80, "https": 443}[self.url.scheme]
        # The tenant's URL may name an internationalised host: `url.host` is its Unicode form,
        # which no header can carry (httpx refuses it); the wire form is the IDNA A-label.
        name = self.url.raw_host.decode("ascii")
        host_header = name if self.url.port in (None, default_port) else f"{name}:{self.url.port}"
        extensions = {"sni_hostname": name} if self.url.scheme == "https" else {}
        return self.url.copy_with(host=host), {"Host": host_header}, extensions


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as error:
        raise TargetRefused(f"'{url}' is not a valid URL") from error
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise TargetRefused("webhook URLs must be absolute http(s) URLs")
    if parsed.userinfo:
        raise TargetRefused("webhook URLs must not carry credentials")
    return parsed


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Resolve the URL's host; refuse private, loopback, link-local and reserved addresses."""
    parsed = check_url(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parsed.host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise Unresolvable(f"'{parsed.host}' does not resolve") from error
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise Unresolvable(f"'{parsed.host}' does not resolve")
    if not allow_private:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise TargetRefused(
                f"'{parsed.host}' resolves to a private, loopback or link-local address ({refused[0]})"
            )
    return Target(parsed, addresses[0])


class SsrfGuard:
    """The guard handlers check webhook URLs with (`allow_private`: local development)."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private

    async def check(self, url: str) -> None:
        await resolve(url, allow_private=self._allow_private)
