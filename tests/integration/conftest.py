"""Every store test runs twice: on SQLite (a file) and on a real PostgreSQL server on loopback.

Live-state tests get a private Redis server on loopback, without persistence, stopped at the end. Each
worker's servers use its lab block's ports (hotline.lab.blocks), so workers run side by side.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis

from hotline.kernel.runtime.db import create_engine
from hotline.lab.blocks import LabBlock
from hotline.lab.postgres import PostgresServer
from hotline.schema import bring_up_to_date
from hotline.ticketing.policy import load_policy
from hotline.ticketing.service import TicketDesk
from tests.integration.served_api import serve_api
from tests.unit.ticketing.desk import Clock
from tests.workers import lab_number

WORKER = LabBlock(lab_number())
TEMPLATE = "hotline_migrated"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer(Path(f"/var/lib/hotline-test/pg-{WORKER.name}"), WORKER.postgres_port)
    started = server.start()
    yield server
    if started:
        server.stop()


async def migrated(url: str) -> None:
    engine = create_engine(url)
    try:
        await bring_up_to_date(engine)
    finally:
        await engine.dispose()


def on_its_own_loop(work: Callable[[], Coroutine[object, object, None]]) -> None:
    """Runs ``work`` to the end in a thread of its own: a session fixture may be set up while a test's
    event loop runs in this thread (``getfixturevalue`` from an async fixture)."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, work()).result()


def admin_url(server: PostgresServer) -> str:
    return server.url().replace("postgresql+asyncpg", "postgresql")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A database migrated once a worker, copied for each test: migrating costs 0.2 s of CPU, a copy nothing.
    (Each test's ``engine`` still brings its copy up to date, a check of 10 ms.)"""
    path = tmp_path_factory.mktemp("migrated") / "hotline.db"
    on_its_own_loop(lambda: migrated(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def migrated_postgres(postgres) -> str:
    """The same on PostgreSQL: a template database each test's database is created from."""

    async def make() -> None:
        connection = await asyncpg.connect(admin_url(postgres))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{TEMPLATE}"')
        finally:
            await connection.close()
        await migrated(postgres.url(TEMPLATE))

    on_its_own_loop(make)
    return TEMPLATE


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database of the test's own."""
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), tmp_path / "hotline.db")
        yield f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    template = request.getfixturevalue("migrated_postgres")
    name = f"t_{secrets.token_hex(6)}"
    connection = await asyncpg.connect(admin_url(server))
    await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
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
    port = WORKER.lone_redis_port
    process = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
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
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
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
