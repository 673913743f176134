"""The bench's /metrics samples, which the dashboard in the docs is rendered from: labelled as
Prometheus' scrape config labels them, a stopped service left out, saved and loaded intact."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.metrics_samples import Scraper, Target, load, save
from tangible_devstack.processes import free_port

EXPOSITION = b"""# HELP dead_letters_total Records sent to a dead-letter topic.
# TYPE dead_letters_total counter
dead_letters_total{consumer="entitlements-usage",reason="parking_full"} 3.0
"""


class _Metrics(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(EXPOSITION)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        pass


@pytest.fixture
def service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_samples_carry_the_scrape_labels_and_a_stopped_service_is_left_out(
    service: str, tmp_path: Path
) -> None:
    scraper = Scraper(interval=0.05)
    scraper.add(Target("entitlements", service, "entitlements-1"))
    scraper.add(Target("rewards", f"http://127.0.0.1:{free_port()}", "rewards-1"))  # not listening
    scraper.start()
    deadline = time.monotonic() + 10
    while len(scraper.scrapes) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    scraper.stop()
    assert len(scraper.scrapes) >= 2
    [(labels, value)] = scraper.scrapes[0].series["dead_letters_total"]
    assert value == 3.0
    assert labels == {
        "consumer": "entitlements-usage",
        "reason": "parking_full",
        "namespace": "local",
        "tangible_service": "entitlements",
        "pod": "entitlements-1",
    }
    saved = tmp_path / "samples.json"
    save(scraper.scrapes, saved)
    loaded = load(saved)
    assert [s.at for s in loaded] == [s.at for s in scraper.scrapes]
    assert loaded[0].series["dead_letters_total"][0][0] == labels
