"""ticket KPI facts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:05:55.620650
"""

import sqlalchemy as sa
from alembic import op

import hotline.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("accepted_day", sa.String(length=10), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("dispatched", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("completed_at", hotline.db.Moment(), nullable=True))
        batch_op.add_column(
            sa.Column("completed_on_time", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("extended", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("first_time", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(
            sa.Column("satisfaction", sa.String(length=24), server_default="", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_tickets_accepted_day"), ["accepted_day"], unique=False)
    _backfill()


def _backfill() -> None:
    """Tickets stored before this revision get their facts from their snapshots."""
    from ticketing.kpi import facts
    from ticketing.workflow import ticket_from_json

    tickets = sa.table(
        "tickets",
        sa.column("number", sa.String),
        sa.column("state", hotline.db.Document),
        *(
            sa.column(name)
            for name in (
                "accepted_day",
                "dispatched",
                "completed_on_time",
                "extended",
                "first_time",
                "satisfaction",
            )
        ),
        sa.column("completed_at", hotline.db.Moment()),
    )
    connection = op.get_bind()
    for number, state in connection.execute(sa.select(tickets.c.number, tickets.c.state)).all():
        connection.execute(
            tickets.update().where(tickets.c.number == number).values(**facts(ticket_from_json(state)))
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_accepted_day"))
        batch_op.drop_column("satisfaction")
        batch_op.drop_column("first_time")
        batch_op.drop_column("extended")
        batch_op.drop_column("completed_on_time")
        batch_op.drop_column("completed_at")
        batch_op.drop_column("dispatched")
        batch_op.drop_column("accepted_day")
