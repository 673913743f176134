"""notifications: impact report templates per tenant, share links, a locale per preference.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # one report template per tenant: logo, colours, section order and wording (JSON)
    op.create_table(
        "report_templates",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    # share links: the token is signed (HMAC), the row makes it revocable and bounds its life
    op.create_table(
        "report_share_links",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("locale", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
    )
    op.create_index("report_share_links_account", "report_share_links", ["tenant_id", "account_id"])
    # the language of reports and messages, per account or user (null: the tenant's default)
    op.add_column("preferences", sa.Column("locale", sa.Text))


def downgrade() -> None:
    op.drop_column("preferences", "locale")
    op.drop_table("report_share_links")
    op.drop_table("report_templates")
