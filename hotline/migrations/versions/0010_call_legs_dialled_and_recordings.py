"""call records: legs for the numbers agents dial (transfers, three-way calls), recordings' ids, the
caller's rating; ticketing: the ratings of calls, for their tickets

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 19:00:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.kernel.runtime.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.add_column(sa.Column("conferences", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("legs", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("recording_ids", sa.String(length=200), nullable=False, server_default=""))
        batch.add_column(sa.Column("rating", sa.String(length=24), nullable=False, server_default=""))
    op.execute("UPDATE call_records SET legs = offers")  # until now every leg was an offer
    with op.batch_alter_table("call_legs") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=12), nullable=False, server_default="offer"))
        batch.add_column(sa.Column("target", sa.String(length=32), nullable=False, server_default=""))
        batch.add_column(sa.Column("mode", sa.String(length=12), nullable=False, server_default=""))
        batch.add_column(sa.Column("ended_at", hotline.kernel.runtime.db.Moment(), nullable=True))
    op.create_table(
        "call_ratings",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("rating", sa.String(length=24), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("rated_at", hotline.kernel.runtime.db.Moment(), nullable=False),
        sa.PrimaryKeyConstraint("call_id"),
    )


def downgrade() -> None:
    op.drop_table("call_ratings")
    with op.batch_alter_table("call_legs") as batch:
        for column in ("ended_at", "mode", "target", "kind"):
            batch.drop_column(column)
    with op.batch_alter_table("call_records") as batch:
        for column in ("rating", "recording_ids", "legs", "conferences"):
            batch.drop_column(column)
