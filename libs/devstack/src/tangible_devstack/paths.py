"""Where the project keeps its caches and local data (both git-ignored)."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout's root: the nearest folder up from here or the cwd holding uv.lock."""
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            if (folder / "uv.lock").exists() and (folder / "libs").is_dir():
                return folder
    return Path.cwd()


def cache_dir() -> Path:
    """Downloaded artifacts (the Kafka jars); kept between runs and CI jobs."""
    path = Path(os.environ.get("TANGIBLE_CACHE_DIR", project_root() / ".cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """State of `make run` (databases, broker log, keys); `make clean` wipes it."""
    path = Path(os.environ.get("TANGIBLE_DATA_DIR", project_root() / ".data"))
    path.mkdir(parents=True, exist_ok=True)
    return path
