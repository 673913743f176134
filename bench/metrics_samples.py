"""Samples of the services' `/metrics`, taken while something runs, as Prometheus would scrape
them: each sample gets the labels the chart's scrape config adds (`namespace`,
`tangible_service`, `pod`). `make bench` scrapes every service it starts and saves the samples;
`scripts/dashboard_png.py --samples` renders the Grafana dashboard from them."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

NAMESPACE = "local"
Series = dict[str, list[tuple[dict[str, str], float]]]  # sample name → (labels, value)


@dataclass(frozen=True)
class Scrape:
    at: float  # unix seconds
    series: Series


@dataclass(frozen=True)
class Target:
    service: str
    base_url: str
    pod: str


def add_samples(series: Series, exposition: str, target: Target) -> None:
    """The samples of one `/metrics` answer, with the labels a scrape adds."""
    extra = {"namespace": NAMESPACE, "tangible_service": target.service, "pod": target.pod}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            series[sample.name].append(({**sample.labels, **extra}, float(sample.value)))


def scrape(client: httpx.Client, targets: list[Target], at: float) -> Scrape:
    """One sample of every target; a target that does not answer (stopped) is left out."""
    series: Series = defaultdict(list)
    for target in targets:
        try:
            response = client.get(f"{target.base_url}/metrics")
        except httpx.HTTPError:
            continue
        if response.status_code == 200:
            add_samples(series, response.text, target)
    return Scrape(at, dict(series))


def save(scrapes: list[Scrape], path: Path) -> None:
    path.write_text(json.dumps([{"at": s.at, "series": s.series} for s in scrapes]))


def load(path: Path) -> list[Scrape]:
    return [Scrape(float(s["at"]), s["series"]) for s in json.loads(path.read_text())]


@dataclass
class Scraper:
    """Scrapes its targets every `interval` seconds in a thread of its own until stopped."""

    interval: float = 5.0
    targets: list[Target] = field(default_factory=list)
    scrapes: list[Scrape] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def add(self, target: Target) -> None:
        self.targets.append(target)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="metrics-scraper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        with httpx.Client(timeout=2) as client:
            while not self._stop.wait(self.interval):
                sample = scrape(client, list(self.targets), time.time())
                if sample.series:
                    self.scrapes.append(sample)
