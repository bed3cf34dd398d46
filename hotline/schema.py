"""The deployment's schema: every capability's tables, migrated by the Alembic scripts beside this file."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kernel.runtime.db import create_engine, migrate

MIGRATIONS = Path(__file__).with_name("migrations")


async def bring_up_to_date(engine: AsyncEngine) -> None:
    await migrate(engine, MIGRATIONS)


@contextlib.asynccontextmanager
async def open_store(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The store, migrated if needed, and disposed of afterwards (for one-shot commands)."""
    engine = create_engine(database_url)
    try:
        await bring_up_to_date(engine)
        yield engine
    finally:
        await engine.dispose()
