"""ticketing: the calls about each ticket (taken on, placed about); recordings: the ticket each is under

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 03:00:00
"""

import sqlalchemy as sa
from alembic import op

import hotline.kernel.runtime.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_calls",
        sa.Column("ticket_number", sa.String(length=32), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["ticket_number"], ["tickets.number"]),
        sa.PrimaryKeyConstraint("ticket_number", "call_id"),
    )
    op.create_index(op.f("ix_ticket_calls_call_id"), "ticket_calls", ["call_id"], unique=False)
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("ticket", sa.String(length=32), nullable=True))
        batch.create_index(batch.f("ix_recordings_ticket"), ["ticket"], unique=False)
    _backfill()


def _backfill() -> None:
    """Tickets taken on a call before this revision name it in their snapshot's intake; the recordings
    of those calls go under them."""
    tickets = sa.table(
        "tickets", sa.column("number", sa.String), sa.column("state", hotline.kernel.runtime.db.Document)
    )
    links = sa.table("ticket_calls", sa.column("ticket_number", sa.String), sa.column("call_id", sa.String))
    connection = op.get_bind()
    for number, state in connection.execute(sa.select(tickets.c.number, tickets.c.state)).all():
        call_id = (state.get("intake") or {}).get("call_id")
        if call_id:
            connection.execute(links.insert().values(ticket_number=number, call_id=call_id))
    op.execute(
        "UPDATE recordings SET ticket = (SELECT min(ticket_number) FROM ticket_calls"
        " WHERE ticket_calls.call_id = recordings.call_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_index(batch.f("ix_recordings_ticket"))
        batch.drop_column("ticket")
    op.drop_index(op.f("ix_ticket_calls_call_id"), table_name="ticket_calls")
    op.drop_table("ticket_calls")
