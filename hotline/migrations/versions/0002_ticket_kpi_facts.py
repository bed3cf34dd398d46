"""ticket KPI facts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:05:55.620650
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

import hotline.kernel.runtime.db

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
        batch_op.add_column(sa.Column("completed_at", hotline.kernel.runtime.db.Moment(), nullable=True))
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


#: Frozen here as they stood at this revision: a migration never imports live domain code.
VERDICTS = {"satisfied", "basically_satisfied", "dissatisfied"}


def _facts(state: dict) -> dict:
    """The KPI columns of one ticket, from its stored snapshot (ticketing.kpi.facts at revision 0002)."""
    completed_at = datetime.fromisoformat(state["completed_at"]) if state.get("completed_at") else None
    completed = completed_at is not None
    return {
        "accepted_day": datetime.fromisoformat(state["accepted_at"]).date().isoformat(),
        "dispatched": bool(state.get("dispatched_at")),
        "completed_at": completed_at,
        "completed_on_time": completed and not state.get("replied_late", False),
        "extended": completed and state.get("extensions_granted", 0) > 0,
        "first_time": completed
        and state.get("redo_count", 0) == 0
        and state.get("return_requests", 0) == 0
        and state.get("reply_rejections", 0) == 0,
        "satisfaction": state.get("satisfaction") if state.get("satisfaction") in VERDICTS else "",
    }


def _backfill() -> None:
    """Tickets stored before this revision get their facts from their snapshots."""
    tickets = sa.table(
        "tickets",
        sa.column("number", sa.String),
        sa.column("state", hotline.kernel.runtime.db.Document),
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
        sa.column("completed_at", hotline.kernel.runtime.db.Moment()),
    )
    connection = op.get_bind()
    for number, state in connection.execute(sa.select(tickets.c.number, tickets.c.state)).all():
        connection.execute(tickets.update().where(tickets.c.number == number).values(**_facts(state)))


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
