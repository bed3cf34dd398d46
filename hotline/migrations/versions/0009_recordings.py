"""the recordings' register, grants to units and the access audit

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:00:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.kernel.runtime.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = hotline.kernel.runtime.db.Moment
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file", sa.String(length=200), nullable=False),
        sa.Column("line", sa.String(length=32), nullable=False),
        sa.Column("caller_number", sa.String(length=32), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("started_at", moment(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("purged_at", moment(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("file"),
    )
    with op.batch_alter_table("recordings") as batch:
        batch.create_index("ix_recordings_call_id", ["call_id"])
        batch.create_index("ix_recordings_agent", ["agent"])
        batch.create_index("ix_recordings_started_at", ["started_at"])
    op.create_table(
        "recording_grants",
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=False),
        sa.Column("granted_by", sa.String(length=60), nullable=False),
        sa.Column("granted_at", moment(), nullable=False),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"]),
        sa.PrimaryKeyConstraint("recording_id", "unit_code"),
    )
    op.create_table(
        "recording_access",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", moment(), nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recording_access") as batch:
        batch.create_index("ix_recording_access_at", ["at"])
        batch.create_index("ix_recording_access_actor", ["actor"])
        batch.create_index("ix_recording_access_recording_id", ["recording_id"])


def downgrade() -> None:
    op.drop_table("recording_access")
    op.drop_table("recording_grants")
    op.drop_table("recordings")
