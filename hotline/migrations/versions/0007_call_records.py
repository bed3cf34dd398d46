"""call records, offers to agents and agents' state intervals

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:00:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.kernel.runtime.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = hotline.kernel.runtime.db.Moment
    op.create_table(
        "call_records",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("line", sa.String(length=32), nullable=False),
        sa.Column("caller_number", sa.String(length=32), nullable=False),
        sa.Column("arrived_at", moment(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("hour", sa.String(length=13), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("skill", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("queued_at", moment(), nullable=True),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("answered_at", moment(), nullable=True),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("talk_seconds", sa.Float(), nullable=True),
        sa.Column("wrap_seconds", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("ended_at", moment(), nullable=True),
        sa.Column("ended_by", sa.String(length=8), nullable=False),
        sa.Column("cause", sa.String(length=64), nullable=False),
        sa.Column("emergency_number", sa.String(length=8), nullable=False),
        sa.Column("callback_at", moment(), nullable=True),
        sa.Column("callback_agent", sa.String(length=16), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("call_id"),
    )
    with op.batch_alter_table("call_records") as batch:
        for column in ("line", "caller_number", "arrived_at", "day", "agent", "ended_at"):
            batch.create_index(f"ix_call_records_{column}", [column])
    op.create_table(
        "call_legs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("offered_at", moment(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("answered_at", moment(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("call_legs") as batch:
        batch.create_index("ix_call_legs_call_seq", ["call_id", "seq"], unique=True)
        batch.create_index("ix_call_legs_agent", ["agent"])
        batch.create_index("ix_call_legs_day", ["day"])
    op.create_table(
        "agent_intervals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("break_reason", sa.String(length=32), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("started", sa.Float(), nullable=False),
        sa.Column("ended", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("agent_intervals") as batch:
        batch.create_index("ix_agent_intervals_agent_start", ["agent", "started"])
        batch.create_index("ix_agent_intervals_started", ["started"])
        batch.create_index("ix_agent_intervals_ended", ["ended"])


def downgrade() -> None:
    op.drop_table("agent_intervals")
    op.drop_table("call_legs")
    op.drop_table("call_records")
