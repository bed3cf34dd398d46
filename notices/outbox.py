"""The persisted outbox: notices wait here until a sender has taken them, and survive any restart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from hotline.kernel.runtime.db import writer
from hotline.notices.rules import Medium, Notice
from hotline.notices.tables import NoticeCursorRow, NoticeRow

CURSOR = "ticket-events"
PENDING, SENT, FAILED = "pending", "sent", "failed"
ERROR_LIMIT = 300


@dataclass(frozen=True)
class Queued:
    """A notice in the outbox, as a sender needs it."""

    id: int
    notice: Notice
    attempts: int


class Outbox:
    def __init__(self, engine: AsyncEngine) -> None:
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        # Writes take SQLite's write lock at BEGIN: a deferred one that reads first fails when another writer
        # committed meanwhile ("database is locked"), and the notices would be lost.
        self.writes = async_sessionmaker(writer(engine), expire_on_commit=False)

    async def cursor(self) -> int | None:
        """The last ticket event followed; None before the first start."""
        async with self.sessions() as session:
            row = await session.get(NoticeCursorRow, CURSOR)
            return row.last_event_id if row else None

    async def enqueue(
        self, notices: Sequence[Notice], now: datetime, through_event: int | None = None
    ) -> int:
        """Add the notices not already here and move the cursor (when given), in one transaction; returns
        how many were new."""
        async with self.writes.begin() as session:
            keys = [notice.key for notice in notices]
            query = select(NoticeRow.key).where(NoticeRow.key.in_(keys))
            known = set((await session.execute(query)).scalars())
            fresh = {notice.key: notice for notice in notices if notice.key not in known}
            session.add_all(
                NoticeRow(
                    key=notice.key,
                    ticket_number=notice.ticket_number,
                    medium=notice.medium.value,
                    recipient=notice.recipient,
                    subject=notice.subject,
                    body=notice.body,
                    files=[dict(file) for file in notice.files],
                    state=PENDING,
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                    last_error="",
                )
                for notice in fresh.values()
            )
            if through_event is None:
                return len(fresh)
            cursor = await session.get(NoticeCursorRow, CURSOR)
            if cursor is None:
                session.add(NoticeCursorRow(name=CURSOR, last_event_id=through_event))
            else:
                cursor.last_event_id = max(cursor.last_event_id, through_event)
        return len(fresh)

    async def given_to(self, recipient: str, since: datetime) -> int:
        """How many notices were decided for this address or number since then, whatever became of them."""
        query = (
            select(func.count())
            .select_from(NoticeRow)
            .where(NoticeRow.recipient == recipient, NoticeRow.created_at >= since)
        )
        async with self.sessions() as session:
            return (await session.execute(query)).scalar_one()

    async def due(self, now: datetime, limit: int = 50) -> list[Queued]:
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(NoticeRow)
                    .where(NoticeRow.state == PENDING, NoticeRow.next_attempt_at <= now)
                    .order_by(NoticeRow.next_attempt_at, NoticeRow.id)
                    .limit(limit)
                )
            ).scalars()
            return [Queued(row.id, _notice(row), row.attempts) for row in rows]

    async def sent(self, notice_id: int, at: datetime) -> None:
        await self._set(notice_id, state=SENT, sent_at=at, attempts=NoticeRow.attempts + 1, last_error="")

    async def retry(self, notice_id: int, error: str, at: datetime) -> None:
        await self._set(
            notice_id, attempts=NoticeRow.attempts + 1, next_attempt_at=at, last_error=error[:ERROR_LIMIT]
        )

    async def fail(self, notice_id: int, error: str) -> None:
        await self._set(
            notice_id, state=FAILED, attempts=NoticeRow.attempts + 1, last_error=error[:ERROR_LIMIT]
        )

    async def _set(self, notice_id: int, **values: Any) -> None:
        async with self.writes.begin() as session:
            await session.execute(update(NoticeRow).where(NoticeRow.id == notice_id).values(**values))

    async def listing(
        self, *, ticket: str | None = None, state: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        query = select(NoticeRow).order_by(NoticeRow.id.desc()).limit(limit)
        if ticket is not None:
            query = query.where(NoticeRow.ticket_number == ticket)
        if state is not None:
            query = query.where(NoticeRow.state == state)
        async with self.sessions() as session:
            return [_shown(row) for row in (await session.execute(query)).scalars()]


def _notice(row: NoticeRow) -> Notice:
    return Notice(
        row.key, row.ticket_number, Medium(row.medium), row.recipient, row.body, row.subject, tuple(row.files)
    )


def _shown(row: NoticeRow) -> dict[str, Any]:
    """A notice as the API shows it; its moments are written in the deployment's zone by the API."""
    return {
        "id": row.id,
        "ticket_number": row.ticket_number,
        "medium": row.medium,
        "recipient": row.recipient,
        "subject": row.subject,
        "body": row.body,
        "files": [file["name"] for file in row.files],
        "state": row.state,
        "attempts": row.attempts,
        "created_at": row.created_at,
        "next_attempt_at": row.next_attempt_at if row.state == PENDING else None,
        "sent_at": row.sent_at,
        "last_error": row.last_error,
    }
