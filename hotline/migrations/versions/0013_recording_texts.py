"""recordings: the transcript of each direction of a call, for search and quality review

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 03:10:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.kernel.runtime.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recording_texts",
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("transcribed_at", hotline.kernel.runtime.db.Moment(), nullable=False),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"]),
        sa.PrimaryKeyConstraint("recording_id"),
    )


def downgrade() -> None:
    op.drop_table("recording_texts")
