"""rewards: the reward catalogue (items bought with credits) and its redemptions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
MONEY = sa.Numeric(20, 2)


def upgrade() -> None:
    op.create_table(
        "catalog_items",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("stock", sa.Integer),  # NULL: unlimited
        sa.Column("per_account_limit", sa.Integer),  # NULL: unlimited
        sa.Column("active_from", sa.DateTime(timezone=True)),
        sa.Column("active_until", sa.DateTime(timezone=True)),
        sa.Column("redeemed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        # the database refuses an oversell even if the code had a bug
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name="catalog_stock_not_negative"),
        sa.CheckConstraint("price > 0", name="catalog_price_positive"),
        sa.CheckConstraint(
            "per_account_limit IS NULL OR per_account_limit >= 1", name="catalog_limit_positive"
        ),
    )
    op.create_table(
        "catalog_redemptions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("item_key", sa.Text, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("transaction_id", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index(
        "catalog_redemptions_by_account", "catalog_redemptions", ["tenant_id", "account_id", "item_key"]
    )


def downgrade() -> None:
    op.drop_table("catalog_redemptions")
    op.drop_table("catalog_items")
