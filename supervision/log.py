"""The monitor audit trail in the database: written before the API answers, read by supervisors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from hotline.kernel.runtime.db import writer
from hotline.supervision.tables import MonitorLogRow


@dataclass(frozen=True)
class LogEntry:
    monitor_id: str
    action: str
    actor: str
    call_id: str
    agent: str
    phone: str
    mode: str


class MonitorLog:
    def __init__(
        self, engine: AsyncEngine, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.writes = async_sessionmaker(writer(engine), expire_on_commit=False)
        self.clock = clock

    async def write(self, entry: LogEntry) -> None:
        async with self.writes.begin() as session:
            session.add(MonitorLogRow(at=self.clock(), **entry.__dict__))

    async def entries(self, call_id: str = "", limit: int = 200) -> list[dict[str, Any]]:
        """The newest first; one call's, when given."""
        query = select(MonitorLogRow).order_by(MonitorLogRow.id.desc()).limit(limit)
        if call_id:
            query = query.where(MonitorLogRow.call_id == call_id)
        async with self.sessions() as session:
            rows = (await session.execute(query)).scalars()
            return [
                {
                    "at": row.at,  # written in the deployment's zone by the API
                    "monitor_id": row.monitor_id,
                    "action": row.action,
                    "actor": row.actor,
                    "call_id": row.call_id,
                    "agent": row.agent,
                    "phone": row.phone,
                    "mode": row.mode,
                }
                for row in rows
            ]
