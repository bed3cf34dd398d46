"""The durable store: engine, the shared model base and migrations (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, DateTime, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator


class Base(DeclarativeBase):
    pass


class Moment(TypeDecorator[datetime]):
    """An aware datetime stored in UTC on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Document = JSON().with_variant(JSONB(), "postgresql")


def create_engine(url: str, **options: Any) -> AsyncEngine:
    is_sqlite = url.startswith("sqlite")
    if is_sqlite:
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _private_file(Path(path))
        options.setdefault("connect_args", {"timeout": 30})
    # A failed statement's error (and so a logged traceback) would otherwise print its parameters: callers'
    # numbers, names and addresses.
    options.setdefault("hide_parameters", True)
    engine = create_async_engine(url, **options)
    if is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _private_file(path: Path) -> None:
    """The database holds callers' personal data: readable by the controller's user alone, from its
    first byte (SQLite gives its -wal and -shm files the database file's mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    path.chmod(0o600)


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine, but its transactions take SQLite's write lock at BEGIN.

    A deferred SQLite transaction that reads and then writes fails outright when
    another connection committed in between (no busy wait helps); IMMEDIATE
    makes writers queue instead. PostgreSQL ignores the option.
    """
    return engine.execution_options(sqlite_begin="IMMEDIATE")


def _sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; foreign keys are off in SQLite unless asked.

    The driver's own transaction handling is switched off so ``_sqlite_begin`` decides how BEGIN is said.
    """
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


async def ping(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return (await connection.execute(text("SELECT 1"))).scalar() == 1


async def migrate(engine: AsyncEngine, scripts: Path, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with the Alembic ``scripts``, on the engine's own connection."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, scripts, revision)


def _upgrade(connection: Connection, scripts: Path, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
