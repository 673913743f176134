"""`tangible-simulator`: send realistic usage to usage-ingest and write the tally."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tangible_simulator.generator import Options
from tangible_simulator.runner import Plan, simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tangible-simulator", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8001", help="usage-ingest base URL")
    parser.add_argument("--token", required=True, help="a credential with the ingest scope")
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--start",
        type=datetime.fromisoformat,
        help="simulated start (RFC 3339); default: speed × duration before now, so the run ends now",
    )
    parser.add_argument("--speed", type=float, default=3600, help="simulated seconds per real second")
    parser.add_argument("--duration", type=float, default=60, help="real seconds to run")
    parser.add_argument(
        "--history-days",
        type=float,
        help="replay this many days of history ending now within --duration (sets --start and --speed)",
    )
    parser.add_argument("--rate", type=float, default=1000, help="max events per second")
    parser.add_argument("--volume", type=float, default=1.0, help="scales the events per account and day")
    parser.add_argument("--processes", type=int, default=1, help="shards in parallel processes (high rates)")
    parser.add_argument("--events", type=int, help="stop after this many sends")
    parser.add_argument("--connections", type=int, default=4, help="clients per process")
    parser.add_argument("--late", type=float, default=0.02, help="share of late events")
    parser.add_argument("--duplicates", type=float, default=0.0, help="share of duplicate sends")
    parser.add_argument("--conflicts", type=float, default=0.0, help="share of conflicting sends")
    parser.add_argument("--tally", type=Path, help="write the tally (JSON) here")
    args = parser.parse_args(argv)
    until = None
    if args.history_days:
        until = datetime.now(UTC)
        args.start = until - timedelta(days=args.history_days)
        args.speed = args.history_days * 86400 / args.duration
    elif args.start is None:
        until = datetime.now(UTC)
        args.start = until - timedelta(seconds=args.speed * args.duration)
    plan = Plan(
        url=args.url,
        token=args.token,
        accounts=args.accounts,
        seed=args.seed,
        start=args.start,
        speed=args.speed,
        duration=args.duration,
        rate=args.rate,
        max_events=args.events,
        connections=args.connections,
        options=Options(
            late_rate=args.late,
            duplicate_rate=args.duplicates,
            conflict_rate=args.conflicts,
            volume=args.volume,
        ),
        until=until,
        processes=args.processes,
    )
    tally = asyncio.run(simulate(plan))
    if args.tally:
        tally.write(args.tally)
    summary = tally.as_dict()
    ends = until or args.start + timedelta(seconds=args.speed * args.duration)
    print(
        json.dumps(
            {
                "simulated": {"from": args.start.isoformat(), "until": ends.isoformat()},
                "sent": summary["sent"],
                "outcomes": summary["outcomes"],
                "accepted": summary["accepted"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
