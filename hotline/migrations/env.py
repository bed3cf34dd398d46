"""Alembic runs on the connection ``kernel.runtime.db.migrate`` hands it (no alembic.ini, no URL here)."""

from alembic import context

import agents.tables  # noqa: F401  (these imports register the tables on Base.metadata)
import kernel.api.users  # noqa: F401
import notices.tables  # noqa: F401
import recordings.tables  # noqa: F401
import reports.tables  # noqa: F401
import supervision.tables  # noqa: F401
import ticketing.tables  # noqa: F401
from kernel.runtime.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
