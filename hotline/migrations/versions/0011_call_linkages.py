"""ticketing: the 110/119/120/122 linkage of each call an agent shared, for the ticket taken on it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 22:00:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.kernel.runtime.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_linkages",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=8), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("at", hotline.kernel.runtime.db.Moment(), nullable=False),
        sa.PrimaryKeyConstraint("call_id"),
    )


def downgrade() -> None:
    op.drop_table("call_linkages")
