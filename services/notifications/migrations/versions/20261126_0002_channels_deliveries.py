"""notifications: channels and secrets, templates, preferences, deliveries and attempts, schedules.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False, server_default="standard"),
        sa.Column("url", sa.Text),
        sa.Column("sender", sa.Text),
        sa.Column("recipients", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("to_account_contacts", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("disabled_at", TS),
        sa.Column("failing_since", TS),
        sa.Column("created_at", TS, nullable=False, server_default=NOW),
    )
    op.create_index("channels_tenant", "channels", ["tenant_id"])
    op.create_table(
        "channel_secrets",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("channel_id", sa.Text, sa.ForeignKey("channels.id"), nullable=False),
        sa.Column("ciphertext", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS),
    )
    op.create_index("channel_secrets_channel", "channel_secrets", ["channel_id"])
    op.create_table(
        "templates",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("event_type", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("html", sa.Text),
        sa.Column("updated_at", TS, nullable=False, server_default=NOW),
    )
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("inbox_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("quarterly_summary", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("quarterly_channels", ARRAY(sa.Text), nullable=False, server_default="{inbox}"),
        sa.Column("digest_hour", sa.Integer, nullable=False, server_default="8"),
    )
    op.create_table(
        "preferences",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True, server_default=""),
        sa.Column("email", sa.Text),
        sa.Column("timezone", sa.Text, nullable=False, server_default="UTC"),
        sa.Column("quiet_start", sa.Time),
        sa.Column("quiet_end", sa.Time),
        sa.Column("channels", JSONB, nullable=False, server_default="{}"),
    )
    op.create_table(
        "accounts",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("license_id", sa.Text),
        sa.Column("term_start", sa.Date),
        sa.Column("term_end", sa.Date),
        sa.Column("first_seen_at", TS, nullable=False, server_default=NOW),
    )
    op.create_table(
        "schedule_runs",
        sa.Column("job", sa.Text, primary_key=True),
        sa.Column("period_key", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("ran_at", TS, nullable=False),
    )
    op.alter_column("notification_rules", "title_template", nullable=True)
    op.alter_column("notification_rules", "body_template", nullable=True)
    op.add_column("notification_rules", sa.Column("html_template", sa.Text))
    op.add_column(
        "notification_rules", sa.Column("category", sa.Text, nullable=False, server_default="general")
    )
    op.add_column("notification_rules", sa.Column("filters", JSONB, nullable=False, server_default="{}"))
    for column in (
        sa.Column("user_id", sa.Text),
        sa.Column("event_type", sa.Text, nullable=False, server_default=""),
        sa.Column("category", sa.Text, nullable=False, server_default="general"),
        sa.Column("priority", sa.Text, nullable=False, server_default="normal"),
        sa.Column("channel_id", sa.Text),
        sa.Column("html", sa.Text),
        sa.Column("context", JSONB),
        sa.Column("template", JSONB),
        sa.Column("digest_key", sa.Text),
        sa.Column("digest_due_at", TS),
        sa.Column("digest_id", sa.Text),
    ):
        op.add_column("notifications", column)
    op.create_index(
        "notifications_composing",
        "notifications",
        ["created_at"],
        postgresql_where=sa.text("status = 'composing'"),
    )
    op.create_index(
        "notifications_digest_due",
        "notifications",
        ["digest_due_at"],
        postgresql_where=sa.text("status = 'held'"),
    )
    op.create_index("notifications_account", "notifications", ["tenant_id", "account_id", "created_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("notification_id", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TS),
        sa.Column("series_started_at", TS),
        sa.Column("last_error", sa.Text),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("delivered_at", TS),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index(
        "deliveries_due", "deliveries", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index("deliveries_tenant", "deliveries", ["tenant_id", "created_at"])
    op.create_index("deliveries_notification", "deliveries", ["notification_id"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("delivery_id", sa.Text, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("attempted_at", TS, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.UniqueConstraint("delivery_id", "number"),
    )
    op.add_column("inbox_items", sa.Column("category", sa.Text, nullable=False, server_default="general"))
    op.add_column("inbox_items", sa.Column("priority", sa.Text, nullable=False, server_default="normal"))
    op.create_index("inbox_items_unread", "inbox_items", ["tenant_id", "account_id", "user_id", "read_at"])


def downgrade() -> None:
    raise NotImplementedError("forward-only in production")
