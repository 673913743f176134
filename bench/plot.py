"""Plots of the report's load series: throughput and latency against offered load.

A load series is a list of points `{"offered": rps, "achieved": rps, "p50_ms": …, "p99_ms": …}`
added with `report.add_series("<suite>.<name>", points)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def plot_load_series(series: dict[str, list[dict[str, Any]]], path: Path) -> Path | None:
    loads = {name: points for name, points in series.items() if points and "offered" in points[0]}
    if not loads:
        return None
    figure, axes = plt.subplots(len(loads), 2, figsize=(11, 3.6 * len(loads)), squeeze=False)
    for row, (name, points) in enumerate(sorted(loads.items())):
        offered = [p["offered"] for p in points]
        throughput, latency = axes[row]
        throughput.plot(offered, [p["achieved"] for p in points], marker="o", label="achieved")
        throughput.plot(offered, offered, linestyle=":", color="grey", label="offered")
        throughput.set(title=f"{name}: throughput", xlabel="offered load (/s)", ylabel="achieved (/s)")
        throughput.legend()
        latency.plot(offered, [p["p50_ms"] for p in points], marker="o", label="p50")
        latency.plot(offered, [p["p99_ms"] for p in points], marker="s", label="p99")
        latency.set(title=f"{name}: latency", xlabel="offered load (/s)", ylabel="ms", yscale="log")
        latency.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
