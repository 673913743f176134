"""entitlements: license lifecycle, seats, activity, daily rollup, overage, recoveries, grant expiry.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("features", sa.Column("updated_at", TS, nullable=False, server_default=NOW))
    op.add_column("catalog_items", sa.Column("retired_at", TS))
    op.add_column("catalog_items", sa.Column("updated_at", TS, nullable=False, server_default=NOW))
    op.add_column("licenses", sa.Column("pending_plan_key", sa.Text))
    op.add_column("licenses", sa.Column("pending_plan_version", sa.Integer))
    op.add_column("licenses", sa.Column("prior_state", JSONB))
    op.add_column("licenses", sa.Column("status_changed_at", TS))
    op.create_index("license_history_license", "license_history", ["tenant_id", "license_id", "id"])
    op.create_table(
        "seat_assignments",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("license_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("assigned_at", TS, nullable=False),
    )
    op.create_table(
        "user_activity",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("last_active_at", TS, nullable=False),
    )
    op.create_table(
        "usage_daily",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("feature_key", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("aggregation", sa.Text, nullable=False),
        sa.Column("value", sa.Numeric, nullable=False),
        sa.Column("last_event_at", TS, nullable=False),
    )
    op.add_column("usage_counters", sa.Column("limit_value", sa.Numeric))
    op.add_column("usage_counters", sa.Column("overage", sa.Numeric, nullable=False, server_default="0"))
    op.add_column("threshold_marks", sa.Column("period_end", TS))
    op.add_column("threshold_marks", sa.Column("limit_value", sa.Numeric))
    op.add_column("threshold_marks", sa.Column("recovered_at", TS))
    op.create_index(
        "threshold_marks_to_recover",
        "threshold_marks",
        ["period_end"],
        postgresql_where=sa.text("recovered_at IS NULL AND period_end IS NOT NULL"),
    )
    op.add_column("grants", sa.Column("actor", sa.Text, nullable=False, server_default="system"))
    op.add_column("grants", sa.Column("reason", sa.Text))
    op.add_column("grants", sa.Column("created_at", TS, nullable=False, server_default=NOW))
    op.add_column("grants", sa.Column("expiry_announced_at", TS))
    op.create_index(
        "grants_to_expire",
        "grants",
        ["expires_at"],
        postgresql_where=sa.text("expiry_announced_at IS NULL AND expires_at IS NOT NULL"),
    )


def downgrade() -> None:
    raise NotImplementedError("forward-only in production")
