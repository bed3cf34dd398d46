"""What the database benchmarks share: a best-of timer and a throwaway PostgreSQL database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

PG_DIR, PG_PORT = Path("/var/lib/hotline-bench/pg"), 15433


async def timed(work: Callable[[], Awaitable[object]], rounds: int = 3) -> float:
    """The best of ``rounds`` runs, in seconds: the least disturbed by whatever else the machine did."""
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        await work()
        best = min(best, time.perf_counter() - began)
    return best


@contextlib.asynccontextmanager
async def postgres_database(name: str) -> AsyncIterator[str]:
    """A new database on the benchmarks' own PostgreSQL server (started if needed); dropped afterwards."""
    import asyncpg

    from hotline.lab.postgres import PostgresServer

    server = PostgresServer(PG_DIR, PG_PORT)
    started = server.start()
    admin = await asyncpg.connect(server.url().replace("postgresql+asyncpg", "postgresql"))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
        yield server.url(name)
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await admin.close()
        if started:
            server.stop()


def add_database_choice(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")


def run_on(choice: str, work: Callable[[str, str], Awaitable[None]], name: str) -> None:
    """``work(url, label)`` on a throwaway SQLite file, then on a throwaway PostgreSQL database ``name``."""
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as folder:
        if choice in ("sqlite", "both"):
            asyncio.run(work(f"sqlite+aiosqlite:///{Path(folder) / f'{name}.db'}", "sqlite"))
    if choice in ("postgresql", "both"):

        async def on_postgres() -> None:
            async with postgres_database(name) as url:
                await work(url, "postgresql")

        asyncio.run(on_postgres())
