"""usage-ingest: the audit log (changes made through admin routes, see tangible_runtime.audit) and
the triggers that record changes of the tables admins change.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from tangible_runtime.audit_migrations import create_audit_log, drop_audit_log, track, untrack

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# table → columns the log shows masked
TRACKED: dict[str, tuple[str, ...]] = {}  # no admin route changes state here (yet)


def upgrade() -> None:
    create_audit_log()
    for table, secrets in TRACKED.items():
        track(table, mask=secrets)


def downgrade() -> None:
    for table in TRACKED:
        untrack(table)
    drop_audit_log()
