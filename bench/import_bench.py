"""`make import-bench`: 1,000,000 historical events through `tangible-client import` into the
system `make run` started (its tokens in `.data/dev-tokens.json`), and the rate reached.

Rows: 2,000 accounts, ten usage types, spread over the last 300 days, one JSON line each.
Prints the CLI's totals with the machine's cores and load average (a shared machine's
figure means little without them). `--rows N` for a shorter run.

Before the import a milestone rule (the 5th event of this run's `type-0`) is created; after
it, rewards is polled for a sample of accounts until each reward is there, and each reward's
`granted_at` is compared with the time of the row that crossed it, computed from the file:
the milestones carry their historical dates, not the import's. The usage types carry the
run's stamp so that earlier runs' rows on the same system count for nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


MILESTONE_TARGET = 5
SAMPLE_ACCOUNTS = [f"acct-{i}" for i in range(0, 2000, 250)]


def write_rows(path: Path, rows: int, seed: int = 17, tag: str = "bench") -> dict[str, datetime]:
    """The file; returns when each sample account's `type-0` reached MILESTONE_TARGET."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=300)
    counts: dict[str, int] = defaultdict(int)
    crossed: dict[str, datetime] = {}
    with path.open("w") as out:
        for i in range(rows):
            at = start + timedelta(seconds=i * 300 * 86_400 // rows)
            kind, account = rng.randrange(10), f"acct-{rng.randrange(2000)}"
            if kind == 0 and account in SAMPLE_ACCOUNTS:
                counts[account] += 1
                if counts[account] == MILESTONE_TARGET:
                    crossed[account] = at
            out.write(
                json.dumps(
                    {
                        "id": f"bench-{i}",
                        "type": f"report.{tag}.type-{kind}",
                        "account_id": account,
                        "time": at.isoformat(),
                        "quantity": 1,
                    }
                )
                + "\n"
            )
    return crossed


def _rule(tag: str) -> dict[str, Any]:
    return {
        "key": f"import-{tag}",
        "name": f"Import bench {tag}",
        "kind": "usage_threshold",
        "params": {"usage_type": f"report.{tag}.type-0", "target": MILESTONE_TARGET},
        "reward": {"kind": "credits", "credits": "1"},
    }


def check_milestones(
    rewards_url: str, admin: str, tag: str, crossed: dict[str, datetime], timeout: float
) -> dict[str, Any]:
    """Poll rewards until every sample account has the run's reward; compare its date."""
    headers = {"Authorization": f"Bearer {admin}"}
    found: dict[str, str] = {}
    started = time.monotonic()
    with httpx.Client(base_url=rewards_url, headers=headers, timeout=30) as client:
        while len(found) < len(crossed) and time.monotonic() - started < timeout:
            for account in crossed.keys() - found.keys():
                response = client.get(f"/v1/accounts/{account}/rewards")
                for reward in response.json().get("rewards", []) if response.status_code == 200 else []:
                    if reward.get("rule_key") == f"import-{tag}":
                        found[account] = reward["granted_at"]
            if len(found) < len(crossed):
                time.sleep(5)
    dated = {a: datetime.fromisoformat(g) == crossed[a] for a, g in found.items()}
    return {
        "sample_accounts": len(crossed),
        "rewarded": len(found),
        "dated_at_the_crossing_row": sum(dated.values()),
        "seconds_after_import": round(time.monotonic() - started, 1),
        "examples": {
            a: {"granted_at": found[a], "row_time": crossed[a].isoformat()} for a in list(found)[:3]
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", default="http://127.0.0.1:8001")
    parser.add_argument("--rewards-url", default="http://127.0.0.1:8003")
    parser.add_argument("--settle", type=float, default=900, help="seconds to wait for the milestones")
    args = parser.parse_args()
    tokens = ROOT / ".data" / "dev-tokens.json"
    if not tokens.exists():
        print("make import-bench needs the system of `make run` (no .data/dev-tokens.json)", file=sys.stderr)
        return 2
    folder = ROOT / ".data" / "import-bench"
    folder.mkdir(parents=True, exist_ok=True)
    tag = f"run{int(time.time())}"
    path = folder / f"history-{args.rows}-{tag}.ndjson"  # fresh ids each run
    crossed = write_rows(path, args.rows, tag=tag)
    keys = json.loads(tokens.read_text())
    rule = httpx.post(
        f"{args.rewards_url}/v1/milestones",
        json=_rule(tag),
        headers={"Authorization": f"Bearer {keys['admin']}"},
        timeout=30,
    )
    rule.raise_for_status()
    env = {**os.environ, "TANGIBLE_TOKEN": keys["ingest"]}
    load_before = os.getloadavg()
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tangible_client.cli",
            "import",
            str(path),
            "--url",
            args.url,
            "--no-progress",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode not in (0, 3):
        print(done.stderr, file=sys.stderr)
        return done.returncode
    totals = json.loads(done.stdout)
    report = {
        **totals,
        "wall_seconds": round(seconds, 1),
        "cores": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(report, indent=2), flush=True)
    milestones = check_milestones(args.rewards_url, keys["admin"], tag, crossed, args.settle)
    print(json.dumps({"milestones": milestones}, indent=2))
    complete = milestones["dated_at_the_crossing_row"] == milestones["sample_accounts"]
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
