"""What the database benchmarks share: a best-of timer and a throwaway PostgreSQL database."""

from __future__ import annotations

import contextlib
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

    from lab.postgres import PostgresServer

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
