"""tickets, events, units, calendar

Revision ID: 0001
Revises:
Create Date: 2026-11-21 22:58:45.290033
"""

import sqlalchemy as sa
from alembic import op

import hotline.kernel.runtime.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("is_workday", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "categories",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_code", sa.String(length=40), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["categories.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_code", sa.String(length=40), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["regions.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "ticket_counters",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "units",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_code", sa.String(length=40), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=40), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["units.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=40), nullable=True),
        sa.Column("unit_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["categories.code"],
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["units.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("category_code", "region_code", name="uq_routing_category_region"),
    )
    op.create_table(
        "tickets",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("ticket_type", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=40), nullable=False),
        sa.Column("lead_unit", sa.String(length=40), nullable=True),
        sa.Column("caller_phone", sa.String(length=24), nullable=False),
        sa.Column("accepted_at", hotline.kernel.runtime.db.Moment(), nullable=False),
        sa.Column("handling_due", hotline.kernel.runtime.db.Moment(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=80), nullable=True),
        sa.Column("state", hotline.kernel.runtime.db.Document, nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["categories.code"],
        ),
        sa.ForeignKeyConstraint(
            ["lead_unit"],
            ["units.code"],
        ),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
        ),
        sa.PrimaryKeyConstraint("number"),
        sa.UniqueConstraint("source", "external_id", name="uq_ticket_external"),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_accepted_at"), ["accepted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_caller_phone"), ["caller_phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_category_code"), ["category_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_handling_due"), ["handling_due"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_lead_unit"), ["lead_unit"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_status"), ["status"], unique=False)

    op.create_table(
        "users",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["units.code"],
        ),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "audit_reads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", hotline.kernel.runtime.db.Moment(), nullable=False),
        sa.Column("user_name", sa.String(length=60), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=True),
        sa.Column("ticket_number", sa.String(length=32), nullable=False),
        sa.Column("fields", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_number"],
            ["tickets.number"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_reads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_reads_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_reads_ticket_number"), ["ticket_number"], unique=False)

    op.create_table(
        "ticket_assists",
        sa.Column("ticket_number", sa.String(length=32), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_number"],
            ["tickets.number"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["units.code"],
        ),
        sa.PrimaryKeyConstraint("ticket_number", "unit_code"),
    )
    with op.batch_alter_table("ticket_assists", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_assists_unit_code"), ["unit_code"], unique=False)

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_number", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", hotline.kernel.runtime.db.Moment(), nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("data", hotline.kernel.runtime.db.Document, nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_number"],
            ["tickets.number"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_number", "seq", name="uq_event_ticket_seq"),
    )
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.create_index("ix_events_kind_at", ["kind", "at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_kind_at")

    op.drop_table("ticket_events")
    with op.batch_alter_table("ticket_assists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_assists_unit_code"))

    op.drop_table("ticket_assists")
    with op.batch_alter_table("audit_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_reads_ticket_number"))
        batch_op.drop_index(batch_op.f("ix_audit_reads_at"))

    op.drop_table("audit_reads")
    op.drop_table("users")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_status"))
        batch_op.drop_index(batch_op.f("ix_tickets_region_code"))
        batch_op.drop_index(batch_op.f("ix_tickets_lead_unit"))
        batch_op.drop_index(batch_op.f("ix_tickets_handling_due"))
        batch_op.drop_index(batch_op.f("ix_tickets_category_code"))
        batch_op.drop_index(batch_op.f("ix_tickets_caller_phone"))
        batch_op.drop_index(batch_op.f("ix_tickets_accepted_at"))

    op.drop_table("tickets")
    op.drop_table("routing_rules")
    op.drop_table("units")
    op.drop_table("ticket_counters")
    op.drop_table("regions")
    op.drop_table("categories")
    op.drop_table("calendar_years")
    op.drop_table("calendar_days")
