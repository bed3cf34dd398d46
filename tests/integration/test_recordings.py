"""Recordings under lock and key: entered when the call ends, filed by day and under the call's ticket,
reached only through the API, by role, with a reason, and every access (refusals too) in the audit trail."""

from __future__ import annotations

import asyncio
import json
import time
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import fakeredis
import pytest
from aiohttp.test_utils import TestClient, TestServer
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select, update

from hotline.kernel.api.hub import EventHub
from hotline.kernel.api.identity import Actor, Role
from hotline.kernel.api.users import Users
from hotline.kernel.api.web import create_app
from hotline.kernel.runtime.db import writer
from hotline.recordings.access import REASON_MAX, SNIPPET_CONTEXT, WORDS_MAX
from hotline.recordings.http import RECORDING_ROUTES, add_recordings
from hotline.recordings.shelf import RecordingShelf
from hotline.recordings.tables import RecordingAccessRow, RecordingRow
from hotline.schema import MIGRATIONS, bring_up_to_date
from hotline.speech.workers import Transcript
from hotline.ticketing.errors import TicketError
from hotline.ticketing.http import DESK_KEY
from hotline.ticketing.policy import load_policy
from hotline.ticketing.service import TicketDesk
from tests.integration.api_routes import add_api
from tests.integration.served_api import no_health_checks

CALL = "1796220000.41"
AGENT_WINDOW = timedelta(days=7)
ZONE = ZoneInfo("Asia/Shanghai")


def write_wav(path: Path, seconds: float, level: int = 3000) -> bytes:
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(level.to_bytes(2, "little", signed=True) * int(8000 * seconds))
    return path.read_bytes()


@pytest.fixture
async def served(engine, tmp_path: Path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    audio = write_wav(folder / f"{CALL}-call.wav", 4.0)
    write_wav(folder / f"{CALL}-intake.wav", 2.5)
    filed: list[dict[str, object]] = []

    async def publish(event: dict[str, object]) -> None:
        filed.append(event)

    desk = TicketDesk(engine, load_policy("zhijiang"))
    await desk.start()
    shelf = RecordingShelf(
        engine,
        folder,
        publish,
        settle=0.05,
        zone=ZONE,
        tickets_of=desk.tickets_of_calls,
        # as the controller wires it: the desk says which tickets are confidential, and to whom they show
        confidential_tickets=desk.confidential_tickets,
        confidential_roles=desk.confidential_roles,
    )
    desk.on_call_linked = shelf.file_under
    ended = time.time()
    entered = await shelf.enter(
        {"call_id": CALL, "line": "12345", "caller_number": "13800138000", "agent": "1001", "at": ended}
    )
    assert await shelf.enter({"call_id": CALL, "agent": "1001", "at": ended}) == []  # nothing left to enter
    # the call records hear each new entry once, by the register's id
    assert [(e["type"], e["call_id"], e["recording_id"]) for e in filed] == [
        ("recording.filed", CALL, recording_id) for recording_id in entered
    ]
    # Moved out of Asterisk's folder into the call's day (the intake began 4 s before the hang-up).
    day = datetime.fromtimestamp(ended - 4.0, ZONE).strftime("%Y/%m/%d")
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.wav")) == [
        f"{day}/{CALL}-call.wav",
        f"{day}/{CALL}-intake.wav",
    ]
    users = Users(engine)
    tokens = {
        "1001": await users.add("1001", "agent"),
        "1002": await users.add("1002", "agent"),
        "supervisor": await users.add("李班长", "supervisor"),
        "unit": await users.add("城管中队", "unit", "cgj.majiadian"),
        "quality": await users.add("质检员小周", "quality"),
        "admin": await users.add("管理员", "admin"),
    }
    ticket, _ = await desk.take_in(  # written in the wrap-up, after the hang-up
        {
            "type": "投诉",
            "description": "噪音",
            "category": "urban.environment",
            "region": "zj.majiadian",
            "caller_phone": "13800138000",
            "call_id": CALL,
        },
        Actor("1001", Role.AGENT),
    )
    app = create_app(no_health_checks, EventHub(fakeredis.aioredis.FakeRedis()))
    add_recordings(app, shelf, desk.call_ids, AGENT_WINDOW)
    add_api(app, desk, users, extra_routes=RECORDING_ROUTES)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client, tokens, entered, audio, ticket["number"], shelf
    finally:
        await client.close()


def as_(tokens: dict, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


async def test_a_supervisor_finds_a_tickets_recordings_and_plays_part_of_one(served) -> None:
    client, tokens, (conversation, intake), audio, ticket, _ = served
    listed = await (
        await client.get(f"/api/recordings?ticket={ticket}", headers=as_(tokens, "supervisor"))
    ).json()
    assert [(r["id"], r["kind"], r["agent"], r["ticket"]) for r in listed] == [
        (conversation, "conversation", "1001", ticket),
        (intake, "intake", "1001", ticket),
    ]
    assert listed[0]["seconds"] == 4.0 and listed[0]["size"] == len(audio)
    assert set(listed[0]) == {  # what it is, never where it lies
        "id",
        "call_id",
        "ticket",
        "kind",
        "line",
        "caller_number",
        "agent",
        "started_at",
        "seconds",
        "size",
        "sha256",
        "purged_at",
    }
    whole = await client.get(
        f"/api/recordings/{conversation}/audio?reason=质检抽查", headers=as_(tokens, "supervisor")
    )
    assert whole.status == 200 and await whole.read() == audio
    assert whole.headers["Content-Type"] == "audio/wav" and whole.headers["Cache-Control"] == "no-store"
    part = await client.get(
        f"/api/recordings/{conversation}/audio?reason=质检抽查",
        headers={**as_(tokens, "supervisor"), "Range": "bytes=44-1043"},
    )
    assert part.status == 206 and await part.read() == audio[44:1044]


async def test_an_agent_hears_their_own_recent_calls_only(served) -> None:
    client, tokens, (conversation, _), _, _, shelf = served
    own = await client.get(f"/api/recordings/{conversation}/audio?reason=复盘", headers=as_(tokens, "1001"))
    assert own.status == 200
    other = await client.get(f"/api/recordings/{conversation}/audio?reason=好奇", headers=as_(tokens, "1002"))
    assert other.status == 403 and (await other.json())["error_id"] == "not-your-call"
    listed = await (await client.get(f"/api/recordings?call={CALL}", headers=as_(tokens, "1002"))).json()
    assert listed == []
    shelf.clock = lambda: datetime.now(UTC) + AGENT_WINDOW + timedelta(hours=1)
    late = await client.get(f"/api/recordings/{conversation}/audio?reason=复盘", headers=as_(tokens, "1001"))
    assert late.status == 403 and (await late.json())["error_id"] == "too-old"


async def test_quality_staff_find_and_hear_any_recording_and_change_no_ticket(served) -> None:
    client, tokens, (conversation, _), audio, ticket, _ = served
    listed = await client.get(f"/api/recordings?ticket={ticket}", headers=as_(tokens, "quality"))
    assert listed.status == 200 and conversation in [r["id"] for r in await listed.json()]
    heard = await client.get(
        f"/api/recordings/{conversation}/audio?reason=质检抽查", headers=as_(tokens, "quality")
    )
    assert heard.status == 200 and await heard.read() == audio
    read = await client.get(f"/api/tickets/{ticket}", headers=as_(tokens, "quality"))
    assert read.status == 200
    noted = await client.post(
        f"/api/tickets/{ticket}/note", json={"text": "x"}, headers=as_(tokens, "quality")
    )
    assert noted.status == 403, "quality staff change no ticket"


async def test_a_unit_hears_a_recording_only_once_a_supervisor_granted_it(served) -> None:
    client, tokens, (conversation, intake), audio, _, _ = served
    refused = await client.get(
        f"/api/recordings/{conversation}/audio?reason=核实", headers=as_(tokens, "unit")
    )
    assert refused.status == 403 and (await refused.json())["error_id"] == "not-granted"
    listing = await client.get(f"/api/recordings?call={CALL}", headers=as_(tokens, "unit"))
    assert listing.status == 403
    granted = await client.post(
        f"/api/recordings/{conversation}/grants",
        json={"unit": "cgj.majiadian", "reason": "投诉核实，经科长批准"},
        headers=as_(tokens, "supervisor"),
    )
    assert granted.status == 200
    heard = await client.get(f"/api/recordings/{conversation}/audio?reason=核实", headers=as_(tokens, "unit"))
    assert heard.status == 200 and await heard.read() == audio
    other = await client.get(f"/api/recordings/{intake}/audio?reason=核实", headers=as_(tokens, "unit"))
    assert other.status == 403, "a grant is for one recording"


async def test_every_access_and_refusal_is_in_the_trail_and_a_reason_is_required(served) -> None:
    client, tokens, (conversation, _), _, _, _ = served
    missing = await client.get(f"/api/recordings/{conversation}/audio", headers=as_(tokens, "supervisor"))
    assert missing.status == 422 and (await missing.json())["error_id"] == "invalid-field"
    await client.get(f"/api/recordings/{conversation}/audio?reason=质检", headers=as_(tokens, "supervisor"))
    await client.get(f"/api/recordings/{conversation}/audio?reason=好奇", headers=as_(tokens, "1002"))
    unknown = await client.get("/api/recordings/999/audio?reason=x", headers=as_(tokens, "supervisor"))
    assert unknown.status == 404 and (await unknown.json())["error_id"] == "not-found"
    for bad in ("%C2%B2", "0", "1" * 13):  # "²" is a digit to str.isdigit, not to int(): the fuzzer's 500
        refused = await client.get(f"/api/recordings/{bad}/audio?reason=x", headers=as_(tokens, "supervisor"))
        assert refused.status == 422 and (await refused.json())["error_id"] == "invalid-field", bad
    trail = await (
        await client.get(f"/api/recordings/{conversation}/audit", headers=as_(tokens, "supervisor"))
    ).json()
    assert [(t["actor"], t["action"], t["allowed"], t["reason"]) for t in trail] == [
        ("李班长", "play", True, "质检"),
        ("1002", "play", False, "好奇"),
    ]
    denied = await client.get(f"/api/recordings/{conversation}/audit", headers=as_(tokens, "1001"))
    assert denied.status == 403


async def test_the_purge_deletes_what_is_past_its_days_keeps_what_a_ticket_holds_and_says_so(
    engine, tmp_path: Path
) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    shelf = RecordingShelf(engine, folder, settle=0.05)
    desk = TicketDesk(engine, load_policy("zhijiang"))
    await desk.start()
    agent = Actor("1001", Role.AGENT)
    calls = {"closed": "1.1", "open": "1.2", "complaint": "1.3", "recent": "1.4"}
    for name, call_id in calls.items():
        write_wav(folder / f"{call_id}-call.wav", 1.0)
        await shelf.enter({"call_id": call_id, "agent": "1001", "at": time.time()})
        if name in ("closed", "open", "complaint"):
            kind = "投诉" if name == "complaint" else "咨询"
            ticket, _ = await desk.take_in(
                {
                    "type": kind,
                    "description": "x",
                    "category": "urban.environment",
                    "region": "zj.majiadian",
                    "call_id": call_id,
                },
                agent,
            )
            if name != "open":  # answered at once: the ticket is closed by the archive
                await desk.act(ticket["number"], "answer", {"answer": "已解答"}, agent)
                await desk.act(ticket["number"], "record_callback", {"result": "满意"}, agent)
    aged = {"closed", "open", "complaint"}
    async with shelf.sessions.begin() as session:  # three calls half a year ago
        for name in aged:
            await session.execute(
                update(RecordingRow)
                .where(RecordingRow.call_id == calls[name])
                .values(started_at=datetime.now(UTC) - timedelta(days=181))
            )
    purged = await shelf.purge({"conversation": 180}, desk.held_calls)
    listed = {r["call_id"]: r for r in await shelf.of_calls(list(calls.values()))}
    assert [listed[calls["closed"]]["id"]] == purged
    assert listed[calls["closed"]]["purged_at"] and not list(folder.rglob("1.1-call.wav"))
    for kept in ("open", "complaint", "recent"):
        assert listed[calls[kept]]["purged_at"] is None and list(folder.rglob(f"{calls[kept]}-call.wav"))
    trail = await shelf.trail(purged[0])
    assert [(t["actor"], t["action"], t["reason"]) for t in trail] == [
        ("system", "purge", "保存期满（conversation 180 天）")
    ]
    assert await shelf.purge({"conversation": 180}, desk.held_calls) == []  # once


async def test_a_recording_is_entered_although_another_writer_commits_while_it_is_being_entered(
    engine, tmp_path: Path
):
    """On SQLite a transaction that read before it wrote failed ("database is locked") when another one
    committed meanwhile, and the call's recording was never entered."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    write_wav(folder / f"{CALL}-call.wav", 1.0)
    shelf = RecordingShelf(engine, folder, settle=0.05)
    async with writer(engine).begin() as other:  # someone else writing (a trail entry) at that moment
        await other.execute(
            insert(RecordingAccessRow).values(
                at=datetime.now(UTC), actor="1001", role="agent", action="list", call_id=CALL, allowed=True
            )
        )
        entering = asyncio.create_task(shelf.enter({"call_id": CALL, "agent": "1001", "at": time.time()}))
        await asyncio.sleep(1.0)  # the register has read whether the file is known, and waits to write
    assert len(await entering) == 1


async def test_a_tickets_recordings_are_those_of_every_call_about_it_whichever_comes_first(
    engine, tmp_path: Path
) -> None:
    """The call it was taken on (the ticket written while the call lasts), and a call an agent placed about
    it afterwards (回访): both listed by the ticket, each row under it."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    desk = TicketDesk(engine, load_policy("zhijiang"))
    await desk.start()
    shelf = RecordingShelf(engine, folder, settle=0.05, zone=ZONE, tickets_of=desk.tickets_of_calls)
    desk.on_call_linked = shelf.file_under
    agent = Actor("1001", Role.AGENT)
    ticket, _ = await desk.take_in(
        {
            "type": "求助",
            "description": "路灯不亮",
            "category": "urban.environment",
            "region": "zj.majiadian",
            "call_id": CALL,
        },
        agent,
    )
    write_wav(folder / f"{CALL}-call.wav", 1.0)
    await shelf.enter({"call_id": CALL, "agent": "1001", "at": time.time()})
    write_wav(folder / "dial-5a5a5a5a5a5a-call.wav", 1.0)
    await desk.link_call(ticket["number"], "dial-5a5a5a5a5a5a")  # the citizen answered the agent's call
    await shelf.enter({"call_id": "dial-5a5a5a5a5a5a", "agent": "1001", "at": time.time()})
    unrelated = "1796220000.99"
    write_wav(folder / f"{unrelated}-call.wav", 1.0)
    await shelf.enter({"call_id": unrelated, "agent": "1001", "at": time.time()})

    calls = await desk.call_ids(ticket["number"], agent)
    assert calls == [CALL, "dial-5a5a5a5a5a5a"]
    listed = await shelf.of_calls(calls)
    assert [(r["call_id"], r["ticket"]) for r in listed] == [
        (CALL, ticket["number"]),
        ("dial-5a5a5a5a5a5a", ticket["number"]),
    ]
    assert [r["ticket"] for r in await shelf.of_calls([unrelated])] == [None]
    outsider = Actor("城管中队", Role.UNIT, "cgj.majiadian")
    with pytest.raises(TicketError):  # a ticket this person may not see lends them no calls
        await desk.call_ids(ticket["number"], outsider)


async def test_the_migration_files_earlier_recordings_under_the_tickets_taken_on_their_calls(
    engine, tmp_path: Path
) -> None:
    """Stepped back to before the calls of tickets were kept, and forward again: the links come back from
    the tickets' own intake, and each recording goes under its call's ticket."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    desk = TicketDesk(engine, load_policy("zhijiang"))
    await desk.start()
    shelf = RecordingShelf(engine, folder, settle=0.05, tickets_of=desk.tickets_of_calls)
    ticket, _ = await desk.take_in(
        {
            "type": "咨询",
            "description": "x",
            "category": "urban.environment",
            "region": "zj.majiadian",
            "call_id": CALL,
        },
        Actor("1001", Role.AGENT),
    )
    write_wav(folder / f"{CALL}-call.wav", 1.0)
    await shelf.enter({"call_id": CALL, "agent": "1001", "at": time.time()})

    def step_back(connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")

    async with engine.begin() as connection:
        await connection.run_sync(step_back)
    await bring_up_to_date(engine)
    assert await desk.tickets_of_calls([CALL]) == {CALL: ticket["number"]}
    assert [r["ticket"] for r in await shelf.of_calls([CALL])] == [ticket["number"]]


class Listener:
    """A recognizer that 'hears' each file as the words written for its name; it counts what it heard."""

    def __init__(self, words: dict[str, str]) -> None:
        self.words, self.heard = words, []

    async def transcribe(self, path: Path) -> Transcript:
        self.heard.append(path.name)
        return Transcript(self.words[path.name.split("-call-")[1]], 1.0, 0.1)


async def test_each_direction_of_a_call_is_written_down_searched_by_supervisors_and_purged_with_its_audio(
    served,
) -> None:
    client, tokens, _, _, _, shelf = served
    call_id = "1796220000.77"
    for side in ("caller", "agent"):
        write_wav(shelf.folder / f"{call_id}-call-{side}.wav", 1.0)
    write_wav(shelf.folder / f"{call_id}-call.wav", 1.0)
    listener = Listener({"caller.wav": "小区门口的路灯坏了三天", "agent.wav": "好的我们马上派人处理"})
    shelf.scribe = listener
    await shelf.enter({"call_id": call_id, "agent": "1001", "at": time.time()})
    assert sorted(listener.heard) == [
        f"{call_id}-call-agent.wav",
        f"{call_id}-call-caller.wav",
    ]  # not the mix

    found = await client.get("/api/recordings?text=路灯&reason=质检", headers=as_(tokens, "supervisor"))
    [hit] = await found.json()
    assert (hit["call_id"], hit["kind"]) == (call_id, "caller_track")
    assert hit["snippets"] == ["小区门口的路灯坏了三天"] and "text" not in hit
    for who in ("1001", "unit"):
        refused = await client.get("/api/recordings?text=路灯&reason=x", headers=as_(tokens, who))
        assert refused.status == 403, who
    blank = await client.get("/api/recordings?text=%20&reason=x", headers=as_(tokens, "supervisor"))
    assert blank.status == 422
    nothing = await client.get("/api/recordings?text=%25&reason=x", headers=as_(tokens, "supervisor"))
    assert await nothing.json() == []  # a wildcard is a character to look for, not "anything"

    # Read by the same rules as the audio: the agent who answered, with a reason; audited.
    url = f"/api/recordings/{hit['id']}/transcript"
    read = await client.get(f"{url}?reason=复盘", headers=as_(tokens, "1001"))
    assert (await read.json())["text"] == "小区门口的路灯坏了三天"
    assert (await client.get(f"{url}?reason=好奇", headers=as_(tokens, "1002"))).status == 403
    assert (await client.get(url, headers=as_(tokens, "1001"))).status == 422
    trail = await shelf.trail(hit["id"])
    assert [(t["actor"], t["action"], t["allowed"]) for t in trail] == [
        ("李班长", "search", True),
        ("1001", "read", True),
        ("1002", "read", False),
    ]
    mixed = next(r for r in await shelf.of_calls([call_id]) if r["kind"] == "conversation")
    unwritten = await client.get(
        f"/api/recordings/{mixed['id']}/transcript?reason=质检", headers=as_(tokens, "supervisor")
    )
    assert (unwritten.status, (await unwritten.json())["error_id"]) == (404, "no-transcript")

    async with shelf.sessions.begin() as session:  # half a year later, nothing holds it
        await session.execute(
            update(RecordingRow)
            .where(RecordingRow.call_id == call_id)
            .values(started_at=datetime.now(UTC) - timedelta(days=181))
        )

    async def nothing_held(call_ids):
        return set()

    await shelf.purge({"caller_track": 180}, nothing_held)
    after = await client.get("/api/recordings?text=路灯&reason=x", headers=as_(tokens, "supervisor"))
    assert await after.json() == []
    assert await shelf.text_of(hit["id"]) is None


async def test_a_search_shows_only_the_words_around_each_match_for_a_reason_on_each_recordings_trail(
    served,
) -> None:
    """The search once returned whole transcripts (a 举报 caller's spoken name and phone) without a reason,
    and its access row named no recording: each recording's own trail stayed empty."""
    client, tokens, _, _, _, shelf = served
    said = {
        "1796220000.81": "我叫王五电话13912345678我要举报"
        + "幸福小区门口" * 8
        + "有人在路灯下面收保护费"
        + "请尽快处理" * 8,
        "1796220000.82": "路灯" + "不亮" * 30 + "还是路灯",
        "1796220000.83": "好的我们马上派人处理",
    }
    for call_id, words in said.items():
        write_wav(shelf.folder / f"{call_id}-call-caller.wav", 1.0)
        shelf.scribe = Listener({"caller.wav": words})
        await shelf.enter({"call_id": call_id, "agent": "1001", "at": time.time()})
    ids = {r["call_id"]: r["id"] for r in await shelf.of_calls(list(said))}

    unreasoned = await client.get("/api/recordings?text=路灯", headers=as_(tokens, "quality"))
    assert (unreasoned.status, (await unreasoned.json())["field"]) == (422, "reason")
    found = await client.get(
        "/api/recordings?text=路灯&reason=质检抽查：收费投诉", headers=as_(tokens, "quality")
    )
    hits = {hit["call_id"]: hit for hit in await found.json()}
    assert sorted(hits) == ["1796220000.81", "1796220000.82"]
    shown = json.dumps(list(hits.values()), ensure_ascii=False)
    assert "13912345678" not in shown and "王五" not in shown, "the caller's name and phone stay out of it"
    for call_id, hit in hits.items():
        assert "text" not in hit
        for snippet in hit["snippets"]:
            assert "路灯" in snippet and len(snippet.strip("…")) <= len("路灯") + 2 * SNIPPET_CONTEXT
        assert len(hit["snippets"]) == said[call_id].count("路灯")
    assert hits["1796220000.81"]["snippets"] == [
        "…福小区门口幸福小区门口幸福小区门口有人在路灯下面收保护费请尽快处理请尽快处理请尽快处…"
    ]

    for call_id, recording_id in ids.items():
        trail = [(t["actor"], t["action"], t["reason"]) for t in await shelf.trail(recording_id)]
        expected = [("质检员小周", "search", "质检抽查：收费投诉（检索：路灯）")] if call_id in hits else []
        assert trail == expected, call_id


async def test_a_recording_is_granted_only_to_a_unit_the_directory_knows(served) -> None:
    """A grant to an unknown unit of 160 characters was accepted (the column is 40 wide: PostgreSQL 500)."""
    client, tokens, (conversation, _), _, _, shelf = served
    for unit in ("x" * 160, "nowhere"):
        response = await client.post(
            f"/api/recordings/{conversation}/grants",
            json={"unit": unit, "reason": "核实"},
            headers=as_(tokens, "supervisor"),
        )
        refused = await response.json()
        assert (response.status, refused["error_id"], refused["field"]) == (422, "unknown-unit", "unit"), unit
    assert await shelf.trail(conversation) == [], "nothing was granted"
    heard = await client.get(f"/api/recordings/{conversation}/audio?reason=核实", headers=as_(tokens, "unit"))
    assert heard.status == 403


async def test_a_confidential_tickets_calls_are_heard_listed_read_and_found_only_by_its_roles(served) -> None:
    """Quality staff heard, listed, read and found by search the recordings of a confidential 举报, which the
    ticket itself refuses them: the caller's voice is the identity the ticket hides."""
    client, tokens, _, _, plain, shelf = served
    desk = client.server.app[DESK_KEY]
    reported, callback = "1796220000.91", "dial-6b6b6b6b6b6b"
    for side in ("caller", "agent"):
        write_wav(shelf.folder / f"{reported}-call-{side}.wav", 1.0)
    write_wav(shelf.folder / f"{reported}-call.wav", 1.0)
    shelf.scribe = Listener({"caller.wav": "我要举报有人在路灯下收保护费", "agent.wav": "好的已记录"})
    await shelf.enter({"call_id": reported, "agent": "1001", "at": time.time()})
    shelf.scribe = None
    secret, _ = await desk.take_in(
        {
            "type": "举报",
            "description": "有人收保护费",
            "category": "urban.environment",
            "region": "zj.majiadian",
            "call_id": reported,
            "confidential": True,
        },
        Actor("1001", Role.AGENT),
    )
    # A call placed about the plain ticket and then linked to the confidential one too: filed under the
    # plain ticket, it is still a call of the 举报.
    write_wav(shelf.folder / f"{callback}-call.wav", 1.0)
    await shelf.enter({"call_id": callback, "agent": "1001", "at": time.time()})
    await desk.link_call(plain, callback)
    await desk.link_call(secret["number"], callback)
    [called_back] = await shelf.of_calls([callback])
    assert called_back["ticket"] == plain
    kinds = {r["kind"]: r for r in await shelf.of_calls([reported])}
    mixed, track = kinds["conversation"], kinds["caller_track"]
    assert mixed["ticket"] == secret["number"]

    for recording in (mixed, called_back):
        heard = await client.get(
            f"/api/recordings/{recording['id']}/audio?reason=质检抽查", headers=as_(tokens, "quality")
        )
        assert (heard.status, (await heard.json())["error_id"]) == (403, "confidential"), recording["call_id"]
    read = await client.get(
        f"/api/recordings/{track['id']}/transcript?reason=质检抽查", headers=as_(tokens, "quality")
    )
    assert (read.status, (await read.json())["error_id"]) == (403, "confidential")
    for call_id in (reported, callback):
        listed = await client.get(f"/api/recordings?call={call_id}", headers=as_(tokens, "quality"))
        assert (listed.status, await listed.json()) == (200, []), call_id
    listed = await (
        await client.get(f"/api/recordings?ticket={plain}", headers=as_(tokens, "quality"))
    ).json()
    assert [r["call_id"] for r in listed] == [CALL, CALL], "the plain ticket's own call only"
    refused = await client.get(f"/api/recordings?ticket={secret['number']}", headers=as_(tokens, "quality"))
    assert (refused.status, (await refused.json())["error_id"]) == (403, "confidential")
    found = await client.get("/api/recordings?text=保护费&reason=质检抽查", headers=as_(tokens, "quality"))
    assert (found.status, await found.json()) == (200, [])
    # The agent who answered it no longer hears it either; a colleague is told what they always were.
    own = await client.get(f"/api/recordings/{mixed['id']}/audio?reason=复盘", headers=as_(tokens, "1001"))
    assert (own.status, (await own.json())["error_id"]) == (403, "confidential")
    other = await client.get(f"/api/recordings/{mixed['id']}/audio?reason=复盘", headers=as_(tokens, "1002"))
    assert (other.status, (await other.json())["error_id"]) == (403, "not-your-call")
    # A unit a supervisor granted the recording to does not hear it either.
    granted = await client.post(
        f"/api/recordings/{mixed['id']}/grants",
        json={"unit": "cgj.majiadian", "reason": "核实"},
        headers=as_(tokens, "supervisor"),
    )
    assert granted.status == 200
    unit = await client.get(f"/api/recordings/{mixed['id']}/audio?reason=核实", headers=as_(tokens, "unit"))
    assert (unit.status, (await unit.json())["error_id"]) == (403, "confidential")

    # The roles that read confidential tickets hear, list, read and find all of it.
    for who in ("supervisor", "admin"):
        heard = await client.get(f"/api/recordings/{mixed['id']}/audio?reason=督办", headers=as_(tokens, who))
        assert heard.status == 200, who
        read = await client.get(
            f"/api/recordings/{track['id']}/transcript?reason=督办", headers=as_(tokens, who)
        )
        assert (await read.json())["text"] == "我要举报有人在路灯下收保护费", who
        listed = await client.get(f"/api/recordings?call={reported}", headers=as_(tokens, who))
        assert len(await listed.json()) == 3, who
        listed = await client.get(f"/api/recordings?ticket={plain}", headers=as_(tokens, who))
        assert callback in [r["call_id"] for r in await listed.json()], who
        found = await client.get("/api/recordings?text=保护费&reason=督办", headers=as_(tokens, who))
        assert [r["id"] for r in await found.json()] == [track["id"]], who
    trail = [(t["actor"], t["action"], t["allowed"]) for t in await shelf.trail(mixed["id"])]
    assert trail[:3] == [("质检员小周", "play", False), ("1001", "play", False), ("1002", "play", False)]


async def test_a_listing_is_on_the_trail_of_each_recording_it_showed(served) -> None:
    """Listing by call or ticket once wrote one row naming the calls joined together and no recording: a
    recording's own trail never showed who had listed it."""
    client, tokens, (conversation, intake), _, ticket, shelf = served
    by_ticket = await client.get(f"/api/recordings?ticket={ticket}", headers=as_(tokens, "quality"))
    assert by_ticket.status == 200
    by_call = await client.get(f"/api/recordings?call={CALL}&reason=复盘", headers=as_(tokens, "1001"))
    assert by_call.status == 200
    for recording_id in (conversation, intake):
        trail = [
            (t["actor"], t["action"], t["allowed"], t["reason"]) for t in await shelf.trail(recording_id)
        ]
        assert trail == [
            ("质检员小周", "list", True, f"（工单：{ticket}）"),
            ("1001", "list", True, "复盘"),
        ], recording_id


async def test_a_reason_is_at_most_a_hundred_characters_and_the_trail_keeps_it_with_the_searched_words(
    served,
) -> None:
    """The search's trail was cut to 200 characters while a reason had no bound: a long reason pushed the
    searched words off the record."""
    client, tokens, (conversation, _), _, _, shelf = served
    long = "质" * (REASON_MAX + 1)
    for url in (
        f"/api/recordings/{conversation}/audio?reason={long}",
        f"/api/recordings/{conversation}/transcript?reason={long}",
        f"/api/recordings?text=路灯&reason={long}",
        f"/api/recordings?call={CALL}&reason={long}",
    ):
        refused = await client.get(url, headers=as_(tokens, "supervisor"))
        assert (refused.status, (await refused.json())["field"]) == (422, "reason"), url
    granted = await client.post(
        f"/api/recordings/{conversation}/grants",
        json={"unit": "cgj.majiadian", "reason": long},
        headers=as_(tokens, "supervisor"),
    )
    assert (granted.status, (await granted.json())["field"]) == (422, "reason")
    too_many = await client.get(
        f"/api/recordings?text={'灯' * (WORDS_MAX + 1)}&reason=x", headers=as_(tokens, "quality")
    )
    assert (too_many.status, (await too_many.json())["field"]) == (422, "text")

    words = ("小区门口的路灯坏了三天" * 9)[:WORDS_MAX]
    call_id = "1796220000.95"
    write_wav(shelf.folder / f"{call_id}-call-caller.wav", 1.0)
    shelf.scribe = Listener({"caller.wav": f"喂你好{words}请尽快处理"})
    await shelf.enter({"call_id": call_id, "agent": "1001", "at": time.time()})
    reason = "理" * REASON_MAX
    found = await client.get(f"/api/recordings?text={words}&reason={reason}", headers=as_(tokens, "quality"))
    [hit] = await found.json()
    [row] = await shelf.trail(hit["id"])
    assert row["reason"] == f"{reason}（检索：{words}）"


async def test_a_refused_search_is_on_record_whatever_else_it_lacked(served) -> None:
    """The reason was checked before the role: an agent searching without one got 422 and left no trace."""
    client, tokens, _, _, _, shelf = served
    refused = await client.get("/api/recordings?text=路灯", headers=as_(tokens, "1001"))
    assert (refused.status, (await refused.json())["error_id"]) == (403, "reviewers-only")
    async with shelf.sessions() as session:
        rows = (
            await session.execute(select(RecordingAccessRow).where(RecordingAccessRow.action == "search"))
        ).scalars()
        assert [(r.actor, r.allowed, r.reason) for r in rows] == [("1001", False, "（检索：路灯）")]


async def test_a_recording_is_not_granted_to_a_retired_unit(served) -> None:
    """A grant took any unit the directory ever held, a retired one too."""
    client, tokens, (conversation, _), _, _, shelf = served
    retired = await client.patch(
        "/api/units/cgj.majiadian", json={"active": False}, headers=as_(tokens, "admin")
    )
    assert retired.status == 200 and (await retired.json())["active"] is False
    response = await client.post(
        f"/api/recordings/{conversation}/grants",
        json={"unit": "cgj.majiadian", "reason": "核实"},
        headers=as_(tokens, "supervisor"),
    )
    refused = await response.json()
    assert (response.status, refused["error_id"], refused["field"]) == (422, "unknown-unit", "unit")
    assert await shelf.trail(conversation) == [], "nothing was granted"
