"""Alembic runs on the connection ``hotline.kernel.runtime.db.migrate`` hands it (no alembic.ini, no URL)."""

from alembic import context

# These imports register the tables on Base.metadata.
import hotline.agents.tables
import hotline.kernel.api.users
import hotline.notices.tables
import hotline.recordings.tables
import hotline.reports.tables
import hotline.supervision.tables
import hotline.ticketing.tables  # noqa: F401
from hotline.kernel.runtime.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
