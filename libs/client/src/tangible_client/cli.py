"""`tangible-client`: command line tools over usage-ingest. One command for now: `import`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from tangible_client.importer.run import Fatal, Options, Totals, import_file


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tangible-client")
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="import historical usage (NDJSON, or CSV by suffix)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--url", default=os.environ.get("TANGIBLE_INGEST_URL", "http://127.0.0.1:8001"))
    imp.add_argument(
        "--token", default=os.environ.get("TANGIBLE_TOKEN"), help="ingest token (or TANGIBLE_TOKEN)"
    )
    imp.add_argument("--max-batch", type=int, default=1000, help="events per request at most")
    imp.add_argument("--max-concurrency", type=int, default=16, help="requests in flight at most")
    imp.add_argument("--max-rate", type=float, default=None, help="events per second at most")
    imp.add_argument("--no-progress", action="store_true", help="no progress bar (also when not a terminal)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.token:
        print("tangible-client import: --token or TANGIBLE_TOKEN is required", file=sys.stderr)
        return 2
    if not args.file.is_file():
        print(f"tangible-client import: {args.file} is not a file", file=sys.stderr)
        return 2
    console = Console(stderr=True)
    options = Options(max_batch=args.max_batch, max_concurrency=args.max_concurrency, max_rate=args.max_rate)
    progress = Progress(
        TextColumn("[bold]import"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(),
        console=console,
        disable=args.no_progress or not console.is_terminal,
    )
    task = progress.add_task("import", total=args.file.stat().st_size, status="")

    def advance(offset: int, totals: Totals) -> None:
        status = f"{totals.accepted:,} accepted, {totals.duplicates:,} duplicates, {totals.errors:,} errors"
        progress.update(task, completed=offset, status=status)

    try:
        with progress:
            totals = asyncio.run(import_file(args.file, args.url, args.token, options, advance))
    except Fatal as error:
        print(f"tangible-client import: the server refused: {error}; rerun to resume", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tangible-client import: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    print(json.dumps(totals.as_json()))
    # the whole file's verdict: a resumed run whose own rows were clean still finished an
    # import with errors if the interrupted run had found some
    return 0 if totals.errors_in_file == 0 else 3


if __name__ == "__main__":
    sys.exit(main())
