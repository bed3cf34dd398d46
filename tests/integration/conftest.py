"""Every store test runs twice: on SQLite (a file) and on a real PostgreSQL server on loopback.

Live-state tests get a private Redis server on loopback, without persistence, stopped at the end.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis

from hotline.kernel.runtime.db import create_engine
from hotline.lab.postgres import PostgresServer
from hotline.schema import bring_up_to_date
from hotline.ticketing.policy import load_policy
from hotline.ticketing.service import TicketDesk
from tests.integration.served_api import serve_api
from tests.unit.ticketing.desk import Clock

PG_DIR = Path("/var/lib/hotline-test/pg")
PG_PORT = 15432
REDIS_PORT = 16479  # apart from the lab test Redis (16390)


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
    await bring_up_to_date(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def desk(engine) -> TicketDesk:
    """A Zhijiang desk on a new database, its clock at Monday 2 November 2026, 09:00, for the test to move."""
    desk = TicketDesk(engine, load_policy("zhijiang"), clock=Clock())
    await desk.start()
    return desk


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    process = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(REDIS_PORT),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {REDIS_PORT}") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{REDIS_PORT}/0"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
async def redis(redis_server: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
async def api(engine, redis):
    """The whole API on a test server (served_api.py): its client, the users' tokens, the dispatcher and
    the events published. A test module with an ``api`` fixture of its own uses that one."""
    async with serve_api(engine, redis) as served:
        yield served


# The notices' relay, gateway and desk (tests/integration/outgoing.py), for every test here that needs them.
from tests.integration.outgoing import filing_desk, gateway, notices, relay  # noqa: E402, F401
