"""`python -m bench [suite ...]`: run benchmark suites and write bench/reports/latest.*.

Each suite is a module `bench/suites/<name>.py` with `run(bench, report)`. Suites run one
after another on the same infrastructure, so that ratios between figures hold on a noisy
machine. Each suite has its own topic prefix, and the processes it started are stopped when
it ends: no suite measures while an earlier suite's consumers work off its traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import pkgutil
import time
from contextlib import ExitStack
from pathlib import Path

from bench import suites
from bench.harness import bench_environment
from bench.metrics_samples import save
from bench.report import Report
from tangible_runtime.kafka import KafkaClients

METRICS_SAMPLES = Path(__file__).parent / "reports" / "metrics-latest.json"


def main() -> int:
    available = sorted(m.name for m in pkgutil.iter_modules(suites.__path__))
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("suites", nargs="*", choices=[*available, []], help=f"default: all of {available}")
    args = parser.parse_args()
    chosen = args.suites or available
    report = Report()
    if set(chosen) != set(available):
        report.keep_previous(set(chosen))  # the other suites' figures stay as they were
    started = time.monotonic()
    with bench_environment() as bench:
        for name in chosen:
            print(f"[bench] {name}", flush=True)
            module = importlib.import_module(f"bench.suites.{name}")
            suite_started = time.monotonic()
            with ExitStack() as processes:
                suite = dataclasses.replace(bench, stack=processes, topic_prefix=f"bench.{name}.")
                asyncio.run(KafkaClients(suite.kafka_settings).ensure_topics())
                module.run(suite, report)
            # what each suite costs of the run's 15-minute budget, stopping its processes included
            report.notes.append(f"{name}: the suite took {time.monotonic() - suite_started:.0f} s")
    run = "whole run" if set(chosen) == set(available) else f"run of {', '.join(chosen)} alone"
    report.notes.append(f"{run} took {time.monotonic() - started:.0f} s")
    # what `make bench` renders the Grafana dashboard from (docs/dashboard.png); the scraper
    # stopped with the bench environment
    save(bench.scraper.scrapes, METRICS_SAMPLES)
    json_path, md_path = report.write()
    print(f"[bench] report: {md_path} and {json_path}; /metrics samples: {METRICS_SAMPLES}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
