"""`make import-bench`: 1,000,000 historical events through `tangible-client import` into the
system `make run` started (its tokens in `.data/dev-tokens.json`), and the rate reached.

Rows: 2,000 accounts, ten usage types, spread over the last 300 days, one JSON line each.
Prints the CLI's totals with the machine's cores and load average (a shared machine's
figure means little without them). `--rows N` for a shorter run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_rows(path: Path, rows: int, seed: int = 17) -> None:
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=300)
    with path.open("w") as out:
        for i in range(rows):
            at = start + timedelta(seconds=i * 300 * 86_400 // rows)
            out.write(
                json.dumps(
                    {
                        "id": f"bench-{i}",
                        "type": f"report.type-{rng.randrange(10)}",
                        "account_id": f"acct-{rng.randrange(2000)}",
                        "time": at.isoformat(),
                        "quantity": 1,
                    }
                )
                + "\n"
            )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", default="http://127.0.0.1:8001")
    args = parser.parse_args()
    tokens = ROOT / ".data" / "dev-tokens.json"
    if not tokens.exists():
        print("make import-bench needs the system of `make run` (no .data/dev-tokens.json)", file=sys.stderr)
        return 2
    folder = ROOT / ".data" / "import-bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"history-{args.rows}-{int(time.time())}.ndjson"  # fresh ids each run
    write_rows(path, args.rows)
    env = {**os.environ, "TANGIBLE_TOKEN": json.loads(tokens.read_text())["ingest"]}
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
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
