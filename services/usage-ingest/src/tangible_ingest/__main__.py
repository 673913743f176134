"""`python -m tangible_ingest api|scheduler|all|migrate`."""

from functools import partial
from pathlib import Path

from tangible_ingest.bootstrap import ROLES, bootstrap
from tangible_ingest.config import Settings
from tangible_runtime.cli import serve

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

if __name__ == "__main__":
    serve(
        prog="tangible_ingest",
        settings_factory=Settings,
        bootstrap=partial(bootstrap, serving_process=True),
        migrations=MIGRATIONS,
        roles=ROLES,
        app_factory="tangible_ingest.bootstrap:app_from_environment",
    )
