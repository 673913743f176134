"""`python -m tangible_rewards api|consumer|relay|scheduler|all|migrate`."""

from pathlib import Path

from tangible_rewards.bootstrap import ROLES, bootstrap
from tangible_rewards.config import Settings
from tangible_runtime.cli import serve

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

if __name__ == "__main__":
    serve(
        prog="tangible_rewards",
        settings_factory=Settings,
        bootstrap=bootstrap,
        migrations=MIGRATIONS,
        roles=ROLES,
    )
