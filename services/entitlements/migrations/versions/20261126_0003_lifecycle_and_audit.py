"""entitlements: trials, tenant lifecycle settings, renewal notices, signal marks, and the
hash-chained history (existing records are chained here, per account, in id order).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from tangible_entitlements.domain.audit import GENESIS, record_hash

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("licenses", sa.Column("trials", JSONB, nullable=False, server_default="[]"))
    op.create_table(
        "trials",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("license_id", sa.Text, nullable=False),
        sa.Column("target_kind", sa.Text, nullable=False),
        sa.Column("target_key", sa.Text, nullable=False),
        sa.Column("target_version", sa.Integer, nullable=False),
        sa.Column("features", ARRAY(sa.Text), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("ended_at", TS),
        sa.Column("ending_soon_announced_at", TS),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
    )
    op.create_index("trials_account", "trials", ["tenant_id", "account_id", "started_at"])
    op.create_index("trials_running", "trials", ["ends_at"], postgresql_where=sa.text("status = 'active'"))
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("lifecycle", JSONB, nullable=False),
        sa.Column("updated_at", TS, nullable=False, server_default=NOW),
    )
    op.create_table(
        "renewal_notices",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("license_id", sa.Text, primary_key=True),
        sa.Column("term_end", sa.Date, primary_key=True),
        sa.Column("lead_days", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("announced_at", TS, nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
    )
    op.create_index("licenses_term_end", "licenses", ["term_end"])
    op.create_table(
        "signal_marks",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("signal", sa.Text, primary_key=True),
        sa.Column("evidence_key", sa.Text, primary_key=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("payload", JSONB),
    )
    _chain_history()


def _chain_history() -> None:
    op.alter_column("license_history", "license_id", nullable=True)
    op.add_column("license_history", sa.Column("seq", sa.BigInteger))
    op.add_column("license_history", sa.Column("prev_hash", sa.Text))
    op.add_column("license_history", sa.Column("hash", sa.Text))
    op.create_table(
        "history_heads",
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
    )
    connection = op.get_bind()
    rows = (
        connection.execute(
            sa.text(
                "SELECT id, tenant_id, account_id, license_id, action, actor, reason, before, after, at "
                "FROM license_history ORDER BY tenant_id, account_id, id"
            )
        )
        .mappings()
        .all()
    )
    heads: dict[tuple[str, str], tuple[int, str]] = {}
    for row in rows:
        account = (row["tenant_id"], row["account_id"])
        seq, prev = heads.get(account, (0, GENESIS))
        record = {**row, "seq": seq + 1, "prev_hash": prev}
        digest = record_hash(record)
        connection.execute(
            sa.text("UPDATE license_history SET seq = :seq, prev_hash = :prev, hash = :hash WHERE id = :id"),
            {"seq": seq + 1, "prev": prev, "hash": digest, "id": row["id"]},
        )
        heads[account] = (seq + 1, digest)
    for (tenant, account), (seq, digest) in heads.items():
        connection.execute(
            sa.text("INSERT INTO history_heads VALUES (:t, :a, :seq, :hash)"),
            {"t": tenant, "a": account, "seq": seq, "hash": digest},
        )
    for column in ("seq", "prev_hash", "hash"):
        op.alter_column("license_history", column, nullable=False)
    op.create_index(
        "license_history_chain", "license_history", ["tenant_id", "account_id", "seq"], unique=True
    )


def downgrade() -> None:
    raise NotImplementedError("forward-only in production")
