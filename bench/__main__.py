"""`python -m bench [suite ...]`: run benchmark suites and write bench/reports/latest.*.

Each suite is a module `bench/suites/<name>.py` with `run(bench, report)`. Suites run one
after another on the same infrastructure, so that ratios between figures hold on a noisy
machine.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import time

from bench import suites
from bench.harness import bench_environment
from bench.report import Report


def main() -> int:
    available = sorted(m.name for m in pkgutil.iter_modules(suites.__path__))
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("suites", nargs="*", choices=[*available, []], help=f"default: all of {available}")
    args = parser.parse_args()
    chosen = args.suites or available
    report = Report()
    started = time.monotonic()
    with bench_environment() as bench:
        for name in chosen:
            print(f"[bench] {name}", flush=True)
            module = importlib.import_module(f"bench.suites.{name}")
            module.run(bench, report)
    report.notes.append(f"whole run took {time.monotonic() - started:.0f} s")
    json_path, md_path = report.write()
    print(f"[bench] report: {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
