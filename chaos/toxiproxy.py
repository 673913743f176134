"""Toxiproxy (built from the Go module proxy by scripts/ensure-go-tool.sh), driven over its
HTTP API: one proxy in front of Kafka, one in front of PostgreSQL, toxics added and removed."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tangible_devstack.paths import project_root
from tangible_devstack.processes import free_port, spawn, terminate, wait_for_port


def ensure_toxiproxy() -> Path:
    """Path of the toxiproxy server binary; builds it once into .cache/bin."""
    script = project_root() / "scripts" / "ensure-go-tool.sh"
    out = subprocess.run(["bash", str(script), "toxiproxy"], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


@dataclass
class Toxiproxy:
    """The server process and a small client of its API (`/proxies`, `/proxies/{name}/toxics`)."""

    log_path: Path
    api_port: int = field(default_factory=free_port)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> None:
        binary = ensure_toxiproxy()
        self._process = spawn(
            [str(binary), "-host", "127.0.0.1", "-port", str(self.api_port)], log_path=self.log_path
        )
        wait_for_port(self.api_port, timeout=30, process=self._process, what="toxiproxy")

    def stop(self) -> None:
        if self._process is not None:
            terminate(self._process, timeout=5)
            self._process = None

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, f"{self.api}{path}", json=body, timeout=10)
        if response.status_code >= 400:
            raise RuntimeError(f"toxiproxy {method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def create_proxy(self, name: str, *, listen_port: int, upstream_port: int) -> None:
        self._request(
            "POST",
            "/proxies",
            {
                "name": name,
                "listen": f"127.0.0.1:{listen_port}",
                "upstream": f"127.0.0.1:{upstream_port}",
                "enabled": True,
            },
        )

    def add_toxic(
        self,
        proxy: str,
        name: str,
        kind: str,
        attributes: dict[str, Any],
        *,
        stream: str = "downstream",
        toxicity: float = 1.0,
    ) -> None:
        """kind: `latency` (latency, jitter ms), `reset_peer` (timeout ms), `timeout`, …"""
        self._request(
            "POST",
            f"/proxies/{proxy}/toxics",
            {"name": name, "type": kind, "stream": stream, "toxicity": toxicity, "attributes": attributes},
        )

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._request("DELETE", f"/proxies/{proxy}/toxics/{name}")

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        """Disabling a proxy closes every connection through it (a network partition)."""
        self._request("POST", f"/proxies/{proxy}", {"enabled": enabled})

    def reset(self) -> None:
        """Every proxy enabled, every toxic removed."""
        self._request("POST", "/reset")
