"""Every store test runs twice: on SQLite (a file) and on a real PostgreSQL server on loopback."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from hotline.db import create_engine, migrate
from lab.postgres import PostgresServer

PG_DIR = Path("/var/lib/hotline-test/pg")
PG_PORT = 15432


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(PG_DIR, PG_PORT)
    started = server.start()
    yield server
    if started:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"t_{secrets.token_hex(6)}"
    admin_url = server.url().replace("postgresql+asyncpg", "postgresql")
    connection = await asyncpg.connect(admin_url)
    await connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.url(name)
    finally:
        await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await connection.close()


@pytest.fixture
async def engine(database_url: str):
    engine = create_engine(database_url)
    await migrate(engine)
    yield engine
    await engine.dispose()
