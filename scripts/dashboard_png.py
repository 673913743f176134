"""Render the Grafana dashboard (deploy/grafana/tangible-dashboard.json) to docs/dashboard.png
from real metrics. `make bench` does it from the `/metrics` samples its run took of every
service it started (bench/metrics_samples.py); `make dashboard-png` runs the system itself:

Grafana and Prometheus are not installable on the machines this project is built on, so this
script stands in for both, honestly and narrowly:

1. it starts the whole system as `make run` does (embedded Kafka and PostgreSQL, the four
   services with all their roles), on ports of its own and in a fresh data folder;
2. it provisions `make run`'s tenant as the chaos run does (catalog, plans, milestones,
   notification rules, one license per simulated account; `chaos/tenant.py`) with a webhook
   receiver that answers 410, so notifications disables that endpoint for real; then it drives
   usage with the simulator (`tangible-simulator`) against usage-ingest and scrapes every
   service's `/metrics` every few seconds while it runs, adding the labels Prometheus' scrape
   config would add (`namespace`, `tangible_service`, `pod`);
3. it evaluates each panel's PromQL on those samples with a small evaluator for exactly the
   forms the dashboard uses (`sum|max by (…)`, `rate`, `increase`, `histogram_quantile`, `/`),
   draws the panels as SVG on the dashboard's grid and screenshots the page with headless
   Chromium.

`rate` and `increase` are the difference between the first and last sample in the window
(no extrapolation, unlike Prometheus); on a run of a minute or two every window holds the run
so far. `--samples FILE` renders saved samples (a bench run's) without running anything.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tangible_simulator.population import build_population

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the chaos run's tenant: catalog, plans, one license per account
from bench.metrics_samples import NAMESPACE, Scrape, Target, load, save, scrape  # noqa: E402
from chaos.tenant import provision  # noqa: E402

ACCOUNTS, SEED = 50, 42  # the simulator's population, licensed by `provision`
DASHBOARD = ROOT / "deploy" / "grafana" / "tangible-dashboard.json"
# ports apart from `make run`'s defaults, so a running development system is left alone
PORTS = {"usage-ingest": 18201, "entitlements": 18202, "rewards": 18203, "notifications": 18204}
PREFIXES = {"usage-ingest": "USAGE_INGEST_", "entitlements": "ENTITLEMENTS_", "rewards": "REWARDS_"}
PREFIXES["notifications"] = "NOTIFICATIONS_"

Labels = frozenset[tuple[str, str]]
Vector = dict[Labels, float]


# ---------------------------------------------------------------- collecting real samples


TARGETS = [Target(service, f"http://127.0.0.1:{port}", f"{service}-0") for service, port in PORTS.items()]


def wait_ready(client: httpx.Client, stack: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = dict(PORTS)
    while pending:
        if stack.poll() is not None:
            raise RuntimeError(f"the system exited with {stack.returncode} while starting")
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready within {timeout:.0f} s: {sorted(pending)}")
        for service, port in list(pending.items()):
            try:
                if client.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    del pending[service]
            except httpx.HTTPError:
                pass
        time.sleep(1)


class _Gone(BaseHTTPRequestHandler):
    """The tenant's webhook receiver, answering 410 Gone: notifications disables the endpoint,
    so the dashboard's "webhook endpoints disabled" panel shows a real disabling."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(410)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        return None


def gone_receiver() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gone)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def collect(seconds: float, interval: float) -> list[Scrape]:
    """Run the system and the simulator; scrape while the simulator sends and a little after."""
    data = Path(tempfile.mkdtemp(prefix="tangible-dashboard-"))
    env = {
        **os.environ,
        "TANGIBLE_DATA_DIR": str(data),
        "TANGIBLE_KAFKA_PORT": "19192",
        "TANGIBLE_KAFKA_CONTROLLER_PORT": "19193",
        "TANGIBLE_POSTGRES_PORT": "15532",
        **{f"{PREFIXES[s]}PORT": str(p) for s, p in PORTS.items()},
    }
    bin_dir = Path(sys.executable).parent
    log = (data / "stack.log").open("wb")
    stack = subprocess.Popen([str(bin_dir / "tangible-devstack"), "run"], env=env, stdout=log, stderr=log)
    scrapes: list[Scrape] = []
    receiver: ThreadingHTTPServer | None = None
    try:
        with httpx.Client(timeout=10) as client:
            print(f"starting the system in {data} (log: {data / 'stack.log'})", flush=True)
            wait_ready(client, stack, timeout=300)
            while not (data / "dev-tokens.json").exists():
                time.sleep(0.5)
            tokens = json.loads((data / "dev-tokens.json").read_text())
            token = tokens["ingest"]
            receiver = gone_receiver()
            asyncio.run(
                provision(
                    entitlements=f"http://127.0.0.1:{PORTS['entitlements']}",
                    rewards=f"http://127.0.0.1:{PORTS['rewards']}",
                    notifications=f"http://127.0.0.1:{PORTS['notifications']}",
                    admin_token=tokens["admin"],
                    accounts=build_population(ACCOUNTS, seed=SEED),
                    webhook_url=f"http://127.0.0.1:{receiver.server_port}/hook",
                )
            )
            print(f"system ready; simulating usage for {seconds:.0f} s", flush=True)
            simulator = subprocess.Popen(
                [
                    str(bin_dir / "tangible-simulator"),
                    f"--url=http://127.0.0.1:{PORTS['usage-ingest']}",
                    f"--token={token}",
                    f"--duration={seconds}",
                    f"--accounts={ACCOUNTS}",
                    f"--seed={SEED}",
                    "--rate=200",
                    "--duplicates=0.02",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
            )
            settle_until: float | None = None
            while settle_until is None or time.monotonic() < settle_until:
                scrapes.append(scrape(client, TARGETS, time.time()))
                if settle_until is None and simulator.poll() is not None:
                    settle_until = time.monotonic() + 3 * interval  # let consumers catch up
                time.sleep(interval)
    finally:
        if receiver is not None:
            receiver.shutdown()
        stack.send_signal(signal.SIGINT)
        try:
            stack.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stack.kill()
        log.close()
    # the databases and the broker log of this one run; on failure they stay, for the log
    shutil.rmtree(data, ignore_errors=True)
    return scrapes


# ---------------------------------------------------------------- the PromQL the dashboard uses


Evaluate = Callable[[list[Scrape], int], Vector]
MATCHER = re.compile(r'(\w+)\s*(=~|=)\s*"([^"]*)"')


def _top_level_split(expr: str, sep: str) -> list[str]:
    depth, start, parts = 0, 0, []
    for i, ch in enumerate(expr):
        depth += ch in "({[" and 1 or 0
        depth -= ch in ")}]" and 1 or 0
        if ch == sep and depth == 0:
            parts.append(expr[start:i])
            start = i + 1
    return [*parts, expr[start:]]


def _selector(expr: str) -> Evaluate:
    m = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})?", expr.strip())
    if not m:
        raise ValueError(f"unsupported selector: {expr}")
    name = m.group(1)
    matchers = [(k, op, v.replace("$namespace", NAMESPACE)) for k, op, v in MATCHER.findall(m.group(2) or "")]

    def matches(labels: dict[str, str]) -> bool:
        for key, op, value in matchers:
            have = labels.get(key, "")
            if (op == "=" and have != value) or (op == "=~" and not re.fullmatch(value, have)):
                return False
        return True

    def evaluate(scrapes: list[Scrape], i: int) -> Vector:
        return {
            frozenset(labels.items()): value
            for labels, value in scrapes[i].series.get(name, [])
            if matches(labels)
        }

    return evaluate


def _range(func: str, inner: str, window_seconds: float) -> Evaluate:
    select = _selector(inner)

    def evaluate(scrapes: list[Scrape], i: int) -> Vector:
        points: dict[Labels, list[tuple[float, float]]] = defaultdict(list)
        for j in range(i + 1):
            if scrapes[i].at - scrapes[j].at <= window_seconds:
                for labels, value in select(scrapes, j).items():
                    points[labels].append((scrapes[j].at, value))
        out: Vector = {}
        for labels, series in points.items():
            if len(series) < 2:
                continue
            grown = sum(b - a if b >= a else b for (_, a), (_, b) in zip(series, series[1:], strict=False))
            span = series[-1][0] - series[0][0]
            out[labels] = grown if func == "increase" else grown / span
        return out

    return evaluate


def _aggregate(op: str, by: list[str], inner: Evaluate) -> Evaluate:
    def evaluate(scrapes: list[Scrape], i: int) -> Vector:
        groups: dict[Labels, list[float]] = defaultdict(list)
        for labels, value in inner(scrapes, i).items():
            groups[frozenset((k, v) for k, v in labels if k in by)].append(value)
        return {k: sum(v) if op == "sum" else max(v) for k, v in groups.items()}

    return evaluate


def _quantile(q: float, inner: Evaluate) -> Evaluate:
    def evaluate(scrapes: list[Scrape], i: int) -> Vector:
        buckets: dict[Labels, list[tuple[float, float]]] = defaultdict(list)
        for labels, value in inner(scrapes, i).items():
            le = dict(labels)["le"]
            buckets[frozenset((k, v) for k, v in labels if k != "le")].append((float(le), value))
        out: Vector = {}
        for labels, bs in buckets.items():
            bs.sort()
            total = bs[-1][1]
            if total <= 0:
                continue
            rank, lower, below = q * total, 0.0, 0.0
            for upper, count in bs:
                if count >= rank:
                    if math.isinf(upper):
                        out[labels] = lower
                    else:
                        out[labels] = lower + (upper - lower) * (rank - below) / max(count - below, 1e-12)
                    break
                lower, below = upper, count
        return out

    return evaluate


def _divide(left: Evaluate, right: Evaluate) -> Evaluate:
    def evaluate(scrapes: list[Scrape], i: int) -> Vector:
        a, b = left(scrapes, i), right(scrapes, i)
        return {k: v / b[k] for k, v in a.items() if b.get(k)}

    return evaluate


def parse(expr: str) -> Evaluate:
    expr = " ".join(expr.split())
    parts = _top_level_split(expr, "/")
    if len(parts) == 2:
        return _divide(parse(parts[0]), parse(parts[1]))
    if m := re.fullmatch(r"histogram_quantile\(([\d.]+), (.*)\)", expr):
        return _quantile(float(m.group(1)), parse(m.group(2)))
    if m := re.fullmatch(r"(sum|max) by \(([^)]*)\) \((.*)\)", expr):
        return _aggregate(m.group(1), [b.strip() for b in m.group(2).split(",")], parse(m.group(3)))
    if m := re.fullmatch(r"(rate|increase)\((.*)\[(\d+)m\]\)", expr):
        return _range(m.group(1), m.group(2), int(m.group(3)) * 60)
    return _selector(expr)


# ---------------------------------------------------------------- drawing


PALETTE = ("#73bf69", "#f2cc0c", "#5794f2", "#ff9830", "#f2495c", "#b877d9", "#8ab8ff", "#fade2a")
COLUMN, ROW, GAP = 1600 / 24, 30, 6


def fmt(value: float, unit: str) -> str:
    if unit == "percentunit":
        return f"{value * 100:.3g}%"
    if unit == "s":
        return f"{value * 1000:.3g} ms" if value < 1 else f"{value:.3g} s"
    if unit == "bytes":
        for size, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if value >= size:
                return f"{value / size:.3g} {suffix}"
        return f"{value:.0f} B"
    suffix = " req/s" if unit == "reqps" else ""
    return (f"{value / 1000:.3g}k" if value >= 1000 else f"{value:.3g}") + suffix


def legend(template: str, labels: Labels) -> str:
    values = dict(labels)
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: values.get(m.group(1), ""), template).strip() or "value"


def panel_svg(panel: dict[str, object], scrapes: list[Scrape]) -> str:
    grid = panel["gridPos"]
    assert isinstance(grid, dict)
    width, height = grid["w"] * COLUMN - GAP, grid["h"] * ROW - GAP
    unit = str(panel["fieldConfig"]["defaults"].get("unit", "short"))  # type: ignore[index]
    lines: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for target in panel["targets"]:  # type: ignore[attr-defined]
        evaluate = parse(target["expr"])
        for i, sampled in enumerate(scrapes):
            for labels, value in evaluate(scrapes, i).items():
                if math.isfinite(value):
                    lines[legend(target.get("legendFormat", ""), labels)].append((sampled.at, value))
    plot_x, plot_y, plot_w = 70.0, 34.0, width - 84
    legend_rows = min(math.ceil(len(lines) / 2), 3)
    plot_h = height - plot_y - 30 - 16 * legend_rows
    t0, t1 = scrapes[0].at, scrapes[-1].at
    top = max((v for pts in lines.values() for _, v in pts), default=0.0)
    top = top * 1.1 if top > 0 else 1.0
    out = [
        f'<svg width="{width:.0f}" height="{height:.0f}" style="position:absolute;'
        f'left:{grid["x"] * COLUMN:.0f}px;top:{grid["y"] * ROW:.0f}px">',
        '<rect width="100%" height="100%" rx="3" fill="#181b1f" stroke="#2c3235"/>',
        f'<text x="10" y="20" class="title">{html.escape(str(panel["title"]))}</text>',
    ]
    for k in range(4):
        y = plot_y + plot_h - plot_h * k / 3
        out.append(f'<line x1="{plot_x}" x2="{plot_x + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(
            f'<text x="{plot_x - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
            f"{html.escape(fmt(top * k / 3, unit))}</text>"
        )
    for k in range(5):
        t = t0 + (t1 - t0) * k / 4
        x = plot_x + plot_w * k / 4
        label = datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")
        y = plot_y + plot_h + 16
        anchor = ("start", "middle", "middle", "middle", "end")[k]  # the ends stay inside the panel
        out.append(f'<text x="{x:.1f}" y="{y:.1f}" class="axis" text-anchor="{anchor}">{label}</text>')
    if not lines:
        out.append(
            f'<text x="{width / 2:.0f}" y="{plot_y + plot_h / 2:.0f}" class="axis" '
            'text-anchor="middle">No data</text>'
        )
    for n, (name, pts) in enumerate(sorted(lines.items())):
        color = PALETTE[n % len(PALETTE)]
        path = " ".join(
            f"{plot_x + plot_w * (t - t0) / max(t1 - t0, 1e-9):.1f},{plot_y + plot_h - plot_h * v / top:.1f}"
            for t, v in pts
        )
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.6"/>')
        shown = legend_rows * 2 if len(lines) <= legend_rows * 2 else legend_rows * 2 - 1
        lx = 12 + (n % 2) * (width / 2)
        ly = plot_y + plot_h + 34 + 16 * (n // 2)
        if n < shown:
            out.append(f'<rect x="{lx}" y="{ly - 8}" width="12" height="3" fill="{color}"/>')
            out.append(f'<text x="{lx + 18}" y="{ly - 3}" class="legend">{html.escape(name)}</text>')
        elif n == shown:
            out.append(f'<text x="{lx + 18}" y="{ly - 3}" class="legend">+ {len(lines) - shown} more</text>')
    out.append("</svg>")
    return "\n".join(out)


def page(dashboard: dict[str, object], scrapes: list[Scrape], source: str) -> tuple[str, int]:
    panels = dashboard["panels"]
    assert isinstance(panels, list)
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels) * ROW
    started = datetime.fromtimestamp(scrapes[0].at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    minutes = (scrapes[-1].at - scrapes[0].at) / 60
    header = (
        f"{html.escape(str(dashboard['title']))} · namespace {NAMESPACE} · {len(scrapes)} scrapes over "
        f"{minutes:.1f} min from {started} ({source}; rendered by scripts/dashboard_png.py)"
    )
    body = "\n".join(panel_svg(p, scrapes) for p in panels)
    doc = f"""<!doctype html><html><head><meta charset="utf-8"><style>
body {{ margin: 0; background: #111217; font-family: "DejaVu Sans", sans-serif; }}
header {{ color: #ccccdc; font-size: 14px; padding: 10px 12px; }}
main {{ position: relative; margin: 0 0 0 6px; height: {bottom}px; }}
.title {{ fill: #ccccdc; font-size: 13px; font-weight: bold; }}
.axis {{ fill: #8e8e8e; font-size: 10px; }}
.legend {{ fill: #ccccdc; font-size: 11px; }}
.grid {{ stroke: #2c3235; stroke-width: 1; }}
</style></head><body><header>{header}</header><main>{body}</main></body></html>"""
    return doc, bottom + 50


def screenshot(doc: str, height: int, png: Path) -> None:
    chromium = next((c for c in ("chromium", "chromium-browser") if _which(c)), None)
    if chromium is None:
        raise SystemExit("chromium not found: `make test-packages` installs Debian's chromium")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "dashboard.html"
        source.write_text(doc)
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={tmp}/profile",
                f"--window-size=1612,{height}",
                f"--screenshot={png}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
        )


def _which(name: str) -> bool:
    return any((Path(d) / name).exists() for d in os.environ.get("PATH", "").split(os.pathsep))


def _panels(dashboard: dict[str, object]) -> Iterator[dict[str, object]]:
    panels = dashboard["panels"]
    assert isinstance(panels, list)
    yield from panels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    parser.add_argument("--samples", type=Path, help="render these saved samples instead of running")
    parser.add_argument("--source", default="make run + simulator", help="what the samples are of")
    parser.add_argument("--save", type=Path, help="also save the scraped samples here (JSON)")
    parser.add_argument("--seconds", type=float, default=60, help="how long the simulator sends")
    parser.add_argument("--interval", type=float, default=5, help="seconds between scrapes")
    args = parser.parse_args(argv)
    scrapes = load(args.samples) if args.samples else collect(args.seconds, args.interval)
    if args.save:
        save(scrapes, args.save)
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in _panels(dashboard):
        for target in panel["targets"]:  # type: ignore[attr-defined]
            parse(target["expr"])  # fails loudly on a query this evaluator does not know
    doc, height = page(dashboard, scrapes, args.source)
    screenshot(doc, height, args.out)
    print(f"wrote {args.out} from {len(scrapes)} scrapes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
