"""`python -m tangible_rewards api|consumer|relay|scheduler|all|migrate`, and
`consumer-offsets save|restore|show` for a database restore (docs/runbook.md)."""

from pathlib import Path

from tangible_rewards.bootstrap import ROLES, bootstrap
from tangible_rewards.config import Settings
from tangible_runtime.cli import serve
from tangible_runtime.consumer_offsets import groups_of

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

if __name__ == "__main__":
    serve(
        prog="tangible_rewards",
        settings_factory=Settings,
        bootstrap=bootstrap,
        migrations=MIGRATIONS,
        roles=ROLES,
        consumer_groups=groups_of("rewards"),
    )
