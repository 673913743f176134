"""entitlements: the audit log (changes made through admin routes, see tangible_runtime.audit) and
the triggers that record changes of the tables admins change.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06
"""

from tangible_runtime.audit_migrations import create_audit_log, drop_audit_log, track, untrack

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

# table → columns the log shows masked
TRACKED: dict[str, tuple[str, ...]] = {
    "features": (),
    "catalog_items": (),
    "licenses": (),
    "seat_assignments": (),
    "trials": (),
    "grants": (),
    "tenant_settings": (),
    "credentials": (),
}


def upgrade() -> None:
    create_audit_log()
    for table, secrets in TRACKED.items():
        track(table, mask=secrets)


def downgrade() -> None:
    for table in TRACKED:
        untrack(table)
    drop_audit_log()
