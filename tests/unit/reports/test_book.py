"""The record book tells the wallboard when its figures move: every event that ends a caller's wait does."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.kernel.runtime.db import create_engine
from hotline.reports.book import RecordBook
from hotline.reports.store import RecordStore
from hotline.schema import bring_up_to_date

ZONE = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 11, 2, 9, 0, tzinfo=ZONE).timestamp()
ABOUT = {"call_id": "c-waits", "caller_number": "13800138000", "caller_name": "", "line": "12345"}
#: Only catches a book that never says anything: the figures come within milliseconds.
HANG = 10.0


@pytest.fixture
async def engine(tmp_path: Path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}")
    await bring_up_to_date(engine)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize(
    ("kind", "details"),
    [
        ("acd.callback_requested", {"callback_number": "13800138000"}),
        ("ivr.voicemail", {"reason": "来电人选择留言"}),
    ],
)
async def test_a_waiting_caller_who_asks_for_a_callback_or_leaves_a_message_leaves_the_queue_tile(
    engine, kind: str, details: dict
) -> None:
    """Issue 28's review: the 正在排队 tile kept such a caller until some other call moved the figures."""
    told: asyncio.Queue[dict] = asyncio.Queue()

    async def publish(event: dict) -> None:
        if event["type"] == "reports.live":
            await told.put(event)

    now = MORNING
    book = RecordBook(RecordStore(engine, ZONE), {"12345"}, publish, lambda: now, live_every=0.0)
    running = asyncio.create_task(book.run())
    try:
        book.hear({"type": "call.ringing", **ABOUT, "at": now})
        book.hear({"type": "acd.queued", **ABOUT, "at": now + 2, "skill": "general", "priority": "normal"})
        while (await asyncio.wait_for(told.get(), HANG))["today"]["waiting"] != 1:
            pass  # the ring's figures, before the queue's
        now += 30
        book.hear({"type": kind, **ABOUT, "at": now, **details})
        try:
            live = await asyncio.wait_for(told.get(), HANG)
        except TimeoutError:
            pytest.fail(f"the wallboard was not told that {kind} ended the caller's wait")
        assert live["today"]["waiting"] == 0 and book.waiting() == []
    finally:
        running.cancel()
