"""Every moment the API gives is written in the deployment's zone (its policy's, +08:00 in Zhijiang).

Issue 28: call records spoke UTC (+00:00) while tickets spoke +08:00. The
database hands every moment back in UTC; the API writes each one in the
policy's zone, whichever capability's route returns it. Its review: a ticket's
events, its audit trail, the knowledge base and the exchange export still gave
the database's UTC beside the ticket's own +08:00.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from hotline.notices.outbox import Outbox
from hotline.notices.rules import Medium, Notice
from hotline.recordings.shelf import RecordingShelf
from hotline.reports.http import BOOK_KEY
from hotline.reports.records import CallRecord, Leg
from hotline.reports.store import RecordStore
from hotline.supervision.log import LogEntry, MonitorLog
from tests.integration.helpers import auth
from tests.integration.served_api import serve_api

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
        boss, agent, unit = (auth(tokens, who) for who in ("supervisor", "1001", "unit"))
        posted = await ticket_and_article(client, agent, unit, boss)
        number, article = posted["ticket"]["number"], posted["article"]["id"]
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
            f"/api/tickets/{number}",
            f"/api/tickets/{number}/audit",
            "/api/tickets",
            f"/api/exchange/tickets/{number}",
            f"/api/kb/{article}",
            "/api/kb/reminders",
            "/api/kb?q=" + quote("占道经营"),
        )
        given = {}
        for route in routes:
            response = await client.get(route, headers=boss)
            assert response.status == 200, (route, await response.text())
            given[route] = moments(await response.json())
    given |= {f"POST {what}": moments(answer) for what, answer in posted.items()}
    assert all(given.values()), f"a route gave no moment to check: {given}"
    elsewhere = {route: [m for m in found if not m.endswith("+08:00")] for route, found in given.items()}
    assert not any(elsewhere.values()), f"every moment in the deployment's zone: {elsewhere}"
    [arrived] = [m for m in given[routes[0]] if m.startswith("2026-11-02T09:00:00")]
    assert arrived == "2026-11-02T09:00:00+08:00"


async def ticket_and_article(client, agent: dict, unit: dict, boss: dict) -> dict[str, Any]:
    """A ticket dispatched to a unit that reads it (a personal read: on the audit trail), and that unit's
    article in the knowledge base, due for review after a policy change; each POST's answer."""
    answers = {}
    intake = {
        "type": "投诉",
        "description": "小区门口占道经营",
        "category": "urban.management",
        "region": "zj.majiadian.c02",
        "caller_phone": "13900139000",
    }
    for what, path, body, headers in [
        ("ticket", "/api/tickets", intake, agent),
        ("dispatch", "/api/tickets/{number}/dispatch", {"unit": "cgj.majiadian"}, agent),
        ("article", "/api/kb", {"question": "占道经营找谁？", "answer": "城管中队受理。",
                                "category": "urban.management", "effective_from": "2026-01-01"}, unit),
        ("policy change", "/api/kb/policy-changes",
         {"title": "占道经营新规", "categories": ["urban.management"]}, boss),
    ]:  # fmt: skip
        number = answers["ticket"]["number"] if answers else ""
        response = await client.post(path.format(number=number), json=body, headers=headers)
        assert response.status in (200, 201), (path, await response.text())
        answers[what] = await response.json()
    read = await client.get(f"/api/tickets/{answers['ticket']['number']}", headers=unit)
    assert read.status == 200, await read.text()
    return answers
