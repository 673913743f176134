"""notifications: delivery attempts reference their delivery (row-level security through it).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # attempts carry no tenant_id: the foreign key lets the tenant policy of deliveries
    # cover them (see tangible_runtime.migrations.child_tables)
    op.create_foreign_key(
        "delivery_attempts_delivery", "delivery_attempts", "deliveries", ["delivery_id"], ["id"]
    )
