"""agent table

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.kernel.runtime.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("account", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("skills", hotline.kernel.runtime.db.Document, nullable=False),
        sa.Column("sip_password", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", hotline.kernel.runtime.db.Moment(), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )


def downgrade() -> None:
    op.drop_table("agents")
