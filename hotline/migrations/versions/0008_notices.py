"""the notices outbox and its cursor over the ticket events

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:00:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.kernel.runtime.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = hotline.kernel.runtime.db.Moment
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("ticket_number", sa.String(length=32), nullable=False),
        sa.Column("medium", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("files", hotline.kernel.runtime.db.Document, nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", moment(), nullable=False),
        sa.Column("next_attempt_at", moment(), nullable=False),
        sa.Column("sent_at", moment(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("notices") as batch:
        batch.create_index("ix_notices_ticket_number", ["ticket_number"])
        batch.create_index("ix_notices_state", ["state"])
        batch.create_index("ix_notices_next_attempt_at", ["next_attempt_at"])
    op.create_table(
        "notice_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("notice_cursor")
    op.drop_table("notices")
