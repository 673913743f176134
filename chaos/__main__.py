"""`python -m chaos [--profile full|short]` (`make chaos`): a chaos run and its report.

Exits 0 only when every invariant held; the report goes to chaos/reports/<profile>-latest.*.
"""

from __future__ import annotations

import argparse
import dataclasses

from chaos.faults import PROFILES
from chaos.run import run_chaos


def main() -> int:
    parser = argparse.ArgumentParser(prog="chaos", description=__doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--events", type=int, help="override the profile's number of sends")
    parser.add_argument("--seed", type=int, help="override the profile's seed")
    args = parser.parse_args()
    profile = PROFILES[args.profile]
    if args.events:
        profile = dataclasses.replace(profile, events=args.events)
    if args.seed is not None:
        profile = dataclasses.replace(profile, seed=args.seed)
    report = run_chaos(profile)
    json_path, md_path = report.write()
    print(report.markdown())
    print(f"[chaos] report: {md_path} and {json_path}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
