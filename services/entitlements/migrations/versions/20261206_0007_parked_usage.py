"""entitlements: usage parked until its account has a license (see domain/parking.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "parked_usage",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("usage_type", sa.Text, nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("user_id", sa.Text),
        sa.Column("properties", JSONB, nullable=False),
        sa.Column("consumer", sa.Text, nullable=False),
        sa.Column("record_key", sa.LargeBinary, nullable=False),
        sa.Column("record_value", sa.LargeBinary, nullable=False),
        sa.Column("header_names", ARRAY(sa.Text), nullable=False),
        sa.Column("header_values", ARRAY(sa.LargeBinary), nullable=False),
        sa.Column("parked_at", TS, nullable=False),
    )
    # applied per account when its license is created, in event-time order
    op.create_index("parked_usage_by_account", "parked_usage", ["tenant_id", "account_id", "occurred_at"])
    # the scheduler's expiry scan
    op.create_index("parked_usage_by_time", "parked_usage", ["occurred_at"])


def downgrade() -> None:
    op.drop_table("parked_usage")
