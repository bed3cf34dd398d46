"""supervisors' monitor audit trail

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 04:00:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.kernel.runtime.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitor_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", hotline.kernel.runtime.db.Moment(), nullable=False),
        sa.Column("monitor_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=8), nullable=False),
        sa.Column("phone", sa.String(length=8), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("monitor_log") as batch:
        batch.create_index("ix_monitor_log_at", ["at"])
        batch.create_index("ix_monitor_log_monitor_id", ["monitor_id"])
        batch.create_index("ix_monitor_log_call_id", ["call_id"])


def downgrade() -> None:
    op.drop_table("monitor_log")
