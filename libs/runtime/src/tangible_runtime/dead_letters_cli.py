"""`tangible-dead-letters --url URL --token TOKEN` then `list CONSUMER`, `show CONSUMER ID` or
`replay CONSUMER` with a selection (`--reason`, `--since`/`--until`, `--id`): the admin CLI
over a service's dead-letter routes (`/v1/dead-letters/...`). Prints JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from urllib.parse import quote

import httpx


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tangible-dead-letters", description=__doc__)
    parser.add_argument("--url", required=True, help="the service's base URL, e.g. http://entitlements:8000")
    parser.add_argument("--token", required=True, help="an admin credential of the tenant")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="the tenant's dead letters of a consumer, oldest first")
    show = commands.add_parser("show", help="one dead letter with its headers and value")
    replay = commands.add_parser("replay", help="send a selection back to the consumer's source topic")
    for command in (listing, show, replay):
        command.add_argument("consumer")
    for command in (listing, replay):
        command.add_argument("--reason")
        command.add_argument("--since", help="ISO 8601 time with offset")
        command.add_argument("--until", help="ISO 8601 time with offset")
    listing.add_argument("--offset", type=int, default=0)
    listing.add_argument("--limit", type=int, default=100)
    show.add_argument("id", help="<partition>-<offset>, as listed")
    replay.add_argument("--id", action="append", dest="ids", help="a record id (repeatable)")
    return parser


def _request(args: argparse.Namespace) -> tuple[str, str, dict[str, Any], dict[str, Any] | None]:
    base = f"/v1/dead-letters/{quote(args.consumer, safe='')}"
    window = {k: v for k in ("reason", "since", "until") if (v := getattr(args, k, None))}
    if args.command == "list":
        return "GET", base, {**window, "offset": args.offset, "limit": args.limit}, None
    if args.command == "show":
        return "GET", f"{base}/records/{quote(args.id, safe='')}", {}, None
    return "POST", f"{base}/replay", {}, {**window, **({"ids": args.ids} if args.ids else {})}


def main(argv: list[str] | None = None, transport: httpx.BaseTransport | None = None) -> int:
    args = _parser().parse_args(argv)
    method, path, params, body = _request(args)
    with httpx.Client(
        base_url=args.url, headers={"Authorization": f"Bearer {args.token}"}, timeout=60, transport=transport
    ) as client:
        response = client.request(method, path, params=params, json=body)
    print(json.dumps(response.json() if response.content else None, indent=2))
    return 0 if response.is_success else 1


if __name__ == "__main__":
    sys.exit(main())
