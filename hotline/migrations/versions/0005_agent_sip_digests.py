"""agents' SIP passwords kept only as digests

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:10:00
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen here: the realm every stored digest was made with (kernel.asterisk.conf.SIP_REALM).
REALM = "hotline"


def upgrade() -> None:
    op.add_column("agents", sa.Column("sip_digest", sa.String(length=32), nullable=True))
    agents = sa.table(
        "agents",
        sa.column("account", sa.String),
        sa.column("sip_password", sa.String),
        sa.column("sip_digest"),
    )
    connection = op.get_bind()
    for account, password in connection.execute(sa.select(agents.c.account, agents.c.sip_password)).all():
        digest = hashlib.md5(f"{account}:{REALM}:{password}".encode(), usedforsecurity=False).hexdigest()
        connection.execute(agents.update().where(agents.c.account == account).values(sip_digest=digest))
    with op.batch_alter_table("agents") as batch:
        batch.alter_column("sip_digest", existing_type=sa.String(length=32), nullable=False)
        batch.drop_column("sip_password")


def downgrade() -> None:
    raise NotImplementedError("a digest cannot be turned back into a password: issue new SIP passwords")
