"""`python -m tangible_ingest api|scheduler|all|migrate`."""

from pathlib import Path

from tangible_ingest.bootstrap import ROLES, bootstrap, tune_gc
from tangible_ingest.config import Settings
from tangible_runtime.cli import serve

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

if __name__ == "__main__":
    tune_gc()
    serve(
        prog="tangible_ingest",
        settings_factory=Settings,
        bootstrap=bootstrap,
        migrations=MIGRATIONS,
        roles=ROLES,
        app_factory="tangible_ingest.bootstrap:app_from_environment",
    )
