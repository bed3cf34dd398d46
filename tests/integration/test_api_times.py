"""Every moment the API gives is written in the deployment's zone (its policy's, +08:00 in Zhijiang).

Issue 28: call records spoke UTC (+00:00) while tickets spoke +08:00. The
database hands every moment back in UTC; the API writes each one in the
policy's zone, whichever capability's route returns it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from notices.outbox import Outbox
from notices.rules import Medium, Notice
from recordings.shelf import RecordingShelf
from reports.http import BOOK_KEY
from reports.records import CallRecord, Leg
from reports.store import RecordStore
from supervision.log import LogEntry, MonitorLog
from tests.integration.test_agent_api import auth, serve_api

ZONE = ZoneInfo("Asia/Shanghai")  # Zhijiang's policy, which serve_api's desk runs
MOMENT = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)$")
STARTED = datetime(2026, 11, 2, 1, 0, tzinfo=UTC).timestamp()  # 09:00 in Zhijiang


def moments(value: Any) -> list[str]:
    """Every date-time text anywhere in an answer."""
    if isinstance(value, str):
        return [value] if MOMENT.match(value) else []
    if isinstance(value, dict):
        return [found for item in value.values() for found in moments(item)]
    if isinstance(value, list):
        return [found for item in value for found in moments(item)]
    return []


async def test_every_route_that_gives_a_moment_gives_it_in_the_policys_zone(engine, redis, tmp_path: Path):
    store = RecordStore(engine, ZONE)
    await store.apply(
        [
            CallRecord("c-times", "12345", "13800138000", STARTED, queued_at=STARTED + 2, agent="1001",
                       answered_at=STARTED + 9, ended_at=STARTED + 70, ended_by="caller"),
            Leg("c-times", 1, "1001", STARTED + 3, answered_at=STARTED + 9, result="answered",
                ended_at=STARTED + 70),
        ]
    )  # fmt: skip
    await MonitorLog(engine).write(LogEntry("m1", "started", "李班长", "c-times", "1001", "9001", "listen"))
    notice = Notice("times-1", "ZJ-1", Medium.SMS, "13800138000", "【12345】您的工单已受理")
    await Outbox(engine).enqueue([notice], datetime.now(UTC))
    audio = tmp_path / "left.wav"
    audio.write_bytes(b"RIFF....WAVE")
    shelf = RecordingShelf(engine, tmp_path / "recordings", zone=ZONE)
    kept = await shelf.keep(audio, "c-times", "voicemail", "", "13800138000", datetime.now(UTC), 9)
    async with serve_api(engine, redis) as (client, tokens, _, _):
        book = client.server.app[BOOK_KEY]
        about = {"call_id": "c-waits", "caller_number": "13900139000", "line": "12345"}
        book.hear({"type": "call.ringing", **about})
        book.hear({"type": "acd.queued", **about, "skill": "general", "priority": "normal"})
        boss = auth(tokens, "supervisor")
        # Reading its words puts the recording on its own trail (there are none: 404, still audited).
        await client.get(f"/api/recordings/{kept['id']}/transcript?reason=质检抽查", headers=boss)
        routes = (
            "/api/reports/records?day=2026-11-02",
            "/api/reports/live",
            "/api/reports/waiting",
            "/api/monitors/audit",
            "/api/notices",
            "/api/recordings?call=c-times",
            f"/api/recordings/{kept['id']}/audit",
        )
        given = {}
        for route in routes:
            response = await client.get(route, headers=boss)
            assert response.status == 200, (route, await response.text())
            given[route] = moments(await response.json())
    assert all(given.values()), f"a route gave no moment to check: {given}"
    elsewhere = {route: [m for m in found if not m.endswith("+08:00")] for route, found in given.items()}
    assert not any(elsewhere.values()), f"every moment in the deployment's zone: {elsewhere}"
    [arrived] = [m for m in given[routes[0]] if m.startswith("2026-11-02T09:00:00")]
    assert arrived == "2026-11-02T09:00:00+08:00"
