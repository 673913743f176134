"""`make demo` (`python -m tangible_demo`): Tangible working end to end in about a minute."""

from __future__ import annotations

import argparse
import asyncio

from tangible_demo.demo import DemoOptions, run_demo
from tangible_demo.stack import system


def main(argv: list[str] | None = None) -> int:
    defaults = DemoOptions()
    parser = argparse.ArgumentParser(prog="tangible-demo", description=__doc__)
    parser.add_argument("--accounts", type=int, default=defaults.accounts, help="simulated customer accounts")
    parser.add_argument("--duration", type=float, default=defaults.duration, help="real seconds of replay")
    parser.add_argument(
        "--history-days", type=float, default=defaults.history_days, help="days of usage replayed, ending now"
    )
    parser.add_argument(
        "--volume", type=float, default=defaults.volume, help="scales events per user and day"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--tenant", help="tenant id (default: a fresh demo-<time> tenant per run)")
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="if the demo started the system, leave it running afterwards (until Ctrl-C), so the "
        "printed page keeps working; `make demo` passes it",
    )
    args = parser.parse_args(argv)
    options = DemoOptions(
        accounts=args.accounts,
        duration=args.duration,
        history_days=args.history_days,
        volume=args.volume,
        seed=args.seed,
        tenant=args.tenant,
    )
    with system(keep_running=args.keep_running) as stack:
        summary = asyncio.run(run_demo(stack, options))
        if stack.started_here and args.keep_running:
            # said before the summary: the page's URL must be the last thing printed
            print("[demo] the system it started keeps running for the page below (Ctrl-C stops it)\n")
        print(summary, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
