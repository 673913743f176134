"""`python -m tangible_entitlements api|consumer|relay|scheduler|all|migrate`, and
`consumer-offsets save|restore|show` for a database restore (docs/runbook.md)."""

from pathlib import Path

from tangible_entitlements.bootstrap import ROLES, bootstrap
from tangible_entitlements.config import Settings
from tangible_runtime.cli import serve
from tangible_runtime.consumer_offsets import groups_of

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

if __name__ == "__main__":
    serve(
        prog="tangible_entitlements",
        settings_factory=Settings,
        bootstrap=bootstrap,
        migrations=MIGRATIONS,
        roles=ROLES,
        consumer_groups=groups_of("entitlements"),
    )
