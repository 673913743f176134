"""Fixtures of the chart tests: a helm binary, built once from the Go module proxy and cached."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def helm_binary() -> Path:
    """scripts/ensure-go-tool.sh builds helm into .cache/bin on first use, then only prints its path."""
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "ensure-go-tool.sh"), "helm"],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"scripts/ensure-go-tool.sh helm failed:\n{result.stderr}")
    binary = Path(result.stdout.strip().splitlines()[-1])
    assert binary.is_file(), binary
    return binary
