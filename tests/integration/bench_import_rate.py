"""Not part of `make test` (the name is not test_*): the import rate on the in-process system
of the integration fixtures, for a machine without `make run`'s ports free.
`IMPORT_BENCH_ROWS=200000 uv run pytest tests/integration/bench_import_rate.py -s`."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.import_bench import write_rows
from tangible_devstack.testing import serving
from tests.integration.conftest import StartedService


async def test_import_rate(
    start_system: Callable[..., Any],
    started_services: dict[str, StartedService],
    issue_token: Callable[..., str],
    tenant_id: str,
    tmp_path: Path,
) -> None:
    rows = int(os.environ.get("IMPORT_BENCH_ROWS", "200000"))
    await start_system()
    path = tmp_path / "history.ndjson"
    write_rows(path, rows)
    env = {**os.environ, "TANGIBLE_TOKEN": issue_token(tenant_id, "ingest")}
    async with serving(started_services["usage-ingest"].app) as url:
        load = os.getloadavg()
        started = time.monotonic()
        command = ["-m", "tangible_client.cli", "import", str(path), "--url", url, "--no-progress"]
        process = await asyncio.create_subprocess_exec(
            sys.executable, *command, env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await process.communicate()
        totals = json.loads(out)
        print(json.dumps({**totals, "wall": time.monotonic() - started, "load_before": load,
                          "load_after": os.getloadavg(), "cores": os.cpu_count()}))  # fmt: skip
        assert totals["accepted"] == rows
