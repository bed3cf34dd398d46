"""Call records in the database and the reports summed from them, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.intake.voicemail import VoicemailBox
from hotline.kernel.api.identity import Actor, Role
from hotline.recordings.shelf import RecordingShelf
from hotline.reports.book import RecordBook
from hotline.reports.figures import GroupBy, day_span
from hotline.reports.store import RecordStore
from hotline.ticketing.service import UNCLASSIFIED_CATEGORY
from tests.unit.intake.voicemail_inbox import INFO, leave
from tests.unit.reports import day

ZONE = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 11, 2, 9, 0, tzinfo=ZONE).timestamp()  # Monday 2 November 2026, 09:00
DAY = date(2026, 11, 2)


class Clock:
    def __init__(self) -> None:
        self.now = MORNING

    def __call__(self) -> float:
        return self.now


def book_on(engine, clock: Clock) -> RecordBook:
    async def publish(event: dict) -> None:
        published.append(event)

    published: list[dict] = []
    book = RecordBook(RecordStore(engine, ZONE), {"12345"}, publish, clock)
    book.published = published  # type: ignore[attr-defined]
    return book


def call(
    book: RecordBook,
    clock: Clock,
    call_id: str,
    *steps: tuple[float, str, dict],
    arrived: float | None = None,
) -> None:
    """Steps at seconds after the call's arrival: the clock's now for a new call (it rings first), or
    ``arrived`` to go on with one already heard."""
    about = {"call_id": call_id, "caller_number": "13800000000", "caller_name": "", "line": "12345"}
    start = clock.now if arrived is None else arrived
    first = ((0.0, "call.ringing", {}),) if arrived is None else ()
    for offset, kind, extra in (*first, *steps):
        clock.now = start + offset
        book.hear({"type": kind, **about, "at": clock.now, **extra})


def agent(book: RecordBook, account: str, state: str, at: float, reason: str = "", call_id: str = "") -> None:
    book.hear(
        {
            "type": "agent.state",
            "agent": account,
            "state": state,
            "break_reason": reason,
            "call_id": call_id,
            "since": at,
        }
    )


async def a_morning(book: RecordBook, clock: Clock) -> None:
    """Seven calls, one of each ending, and one agent's morning."""
    agent(book, "1001", "ready", MORNING - 600)
    queued = (2.0, "acd.queued", {"skill": "general", "priority": "normal"})
    call(
        book, clock, "answered-fast", queued,
        (3.0, "acd.offered", {"agent": "1001"}),
        (10.0, "call.bridged", {"agent": "1001"}),
        (70.0, "call.hangup", {"agent": "1001", "ended_by": "caller"}),
    )  # fmt: skip
    agent(book, "1001", "talking", MORNING + 10, call_id="answered-fast")
    agent(book, "1001", "wrap_up", MORNING + 70)  # as the ACD says it: no call named
    agent(book, "1001", "ready", MORNING + 100)
    clock.now = MORNING + 200
    call(
        book, clock, "answered-slow", queued,
        (3.0, "acd.offered", {"agent": "1002"}),
        (18.0, "acd.not_answered", {"agent": "1002", "dial_status": "NOANSWER"}),
        (19.0, "acd.offered", {"agent": "1001"}),
        (32.0, "call.bridged", {"agent": "1001"}),
        (92.0, "call.hangup", {"agent": "1001", "ended_by": "agent"}),
    )  # fmt: skip
    clock.now = MORNING + 400
    call(
        book,
        clock,
        "abandoned-short",
        queued,
        (4.0, "acd.abandoned", {"waited": 2}),
        (4.1, "call.hangup", {}),
    )
    clock.now = MORNING + 500
    call(
        book,
        clock,
        "abandoned-long",
        queued,
        (40.0, "acd.abandoned", {"waited": 38}),
        (40.1, "call.hangup", {}),
    )
    clock.now = MORNING + 600
    call(book, clock, "callback", queued, (20.0, "acd.callback_requested", {}), (21.0, "call.hangup", {}))
    clock.now = MORNING + 700
    call(book, clock, "voicemail", (2.0, "ivr.voicemail", {"reason": "closed"}), (60.0, "call.hangup", {}))
    clock.now = MORNING + 800
    call(book, clock, "emergency", (2.0, "ivr.emergency", {"number": "110"}), (90.0, "call.hangup", {}))
    clock.now = MORNING + 1000
    book.hear({"type": "acd.callback_answered", "call_id": "callback", "agent": "1001", "caller_number": ""})
    agent(book, "1001", "break", MORNING + 1200, reason="用餐")
    clock.now = MORNING + 1800
    await book.write()


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_a_days_report_counts_each_ending_once(engine, clock) -> None:
    book = book_on(engine, clock)
    await a_morning(book, clock)
    [row] = await book.report(GroupBy.DAY, DAY, DAY)
    assert row["key"] == "2026-11-02"
    assert (row["offered"], row["requested"], row["answered"]) == (7, 5, 2)
    assert (row["abandoned"], row["abandoned_short"], row["callbacks"], row["callbacks_made"]) == (2, 1, 1, 1)
    assert (row["voicemails"], row["emergency"], row["transfers"]) == (1, 1, 0)
    assert (row["rated"], row["satisfaction_rate"]) == (0, None)  # nobody rated: no rate to speak of
    assert row["answer_rate"] == 0.4 and row["answered_within_15s_rate"] == 0.2
    assert row["asa_seconds"] == (8 + 30) / 2
    assert row["aht_seconds"] == (60 + 30 + 60) / 2  # talk plus the wrap-up that followed the first call


async def test_hours_skills_lines_and_csv(engine, clock) -> None:
    book = book_on(engine, clock)
    await a_morning(book, clock)
    assert [r["key"] for r in await book.report(GroupBy.HOUR, DAY, DAY)] == ["2026-11-02 09"]
    assert [(r["key"], r["requested"]) for r in await book.report(GroupBy.SKILL, DAY, DAY)] == [
        ("", 0),  # voicemail and emergency never asked for an agent
        ("general", 5),
    ]
    assert [r["offered"] for r in await book.report(GroupBy.LINE, DAY, DAY)] == [7]
    assert await book.report(GroupBy.DAY, date(2026, 11, 3), date(2026, 11, 30)) == []
    rows = list(csv.reader(io.StringIO(to_text(await book.report(GroupBy.DAY, DAY, DAY)))))
    assert rows[0][:4] == ["分组", "呼入量", "人工呼入量", "接通量"] and rows[1][:4] == [
        "2026-11-02",
        "7",
        "5",
        "2",
    ]


def to_text(rows) -> str:
    from hotline.reports.figures import to_csv

    text = to_csv(rows)
    assert text.startswith("\ufeff")
    return text[1:]


async def test_per_agent_offers_answers_and_time_by_state(engine, clock) -> None:
    book = book_on(engine, clock)
    await a_morning(book, clock)
    rows = {r["key"]: r for r in await book.report(GroupBy.AGENT, DAY, DAY)}
    first, second = rows["1001"], rows["1002"]
    assert (first["offered"], first["answered"], first["not_answered"]) == (2, 2, 0)
    assert (second["offered"], second["answered"], second["not_answered"]) == (1, 0, 1)
    # 1001 signed in from 08:50 (the day starts at midnight, so all of it counts) until the report's now
    assert first["talk_seconds"] == 60 and first["wrap_up_seconds"] == 30
    assert first["break_seconds"] == 600 and first["break_by_reason"] == {"用餐": 600}
    assert first["signed_in_seconds"] == 600 + 1800
    assert first["ready_seconds"] == 2400 - 60 - 30 - 600
    assert first["occupancy"] == round(90 / (2400 - 600), 4)


async def test_a_three_way_call_and_a_refused_transfer_are_legs_and_the_recordings_are_named(
    engine, clock
) -> None:
    """The agent's transfer to 12333 fails, then 12315 joins a three-way call and the agent leaves it;
    the conversation's recording is entered after the record closed."""
    book = book_on(engine, clock)
    dialled = {"agent": "1001", "by": "1001"}
    call(
        book, clock, "three-way",
        (2.0, "acd.queued", {"skill": "general", "priority": "normal"}),
        (3.0, "acd.offered", {"agent": "1001"}),
        (5.0, "call.bridged", {"agent": "1001"}),
        (20.0, "call.transfer", {**dialled, "to": "12333", "mode": "blind", "state": "dialling"}),
        (45.0, "call.transfer", {**dialled, "to": "12333", "mode": "blind", "state": "failed"}),
        (50.0, "call.conference", {**dialled, "to": "12315", "mode": "conference", "state": "dialling"}),
        (56.0, "call.conference", {**dialled, "to": "12315", "mode": "conference", "state": "answered"}),
        (57.0, "call.conference", {**dialled, "to": "12315", "mode": "conference", "state": "joined"}),
        (90.0, "call.conference", {**dialled, "to": "12315", "mode": "conference", "state": "agent_left"}),
        (295.0, "ivr.survey", {"agent": "1001", "rating": "basically_satisfied"}),
        (300.0, "call.hangup", {"ended_by": "caller"}),
    )  # fmt: skip
    await book.write()
    for recording_id in (41, 42):
        book.hear({"type": "recording.filed", "call_id": "three-way", "recording_id": recording_id})
    await book.write()
    [record] = await book.store.records(DAY, 10)
    # A three-way call the agent left is a three-way call, not also a transfer (issue 28).
    assert (record["outcome"], record["transfers"], record["conferences"]) == ("answered", 0, 1)
    assert record["disposition"] == "three_way"
    assert record["recording_ids"] == [41, 42] and record["rating"] == "basically_satisfied"
    legs = [(leg["kind"], leg["agent"], leg["target"], leg["result"]) for leg in record["legs"]]
    assert legs == [
        ("offer", "1001", "", "answered"),
        ("transfer", "1001", "12333", "failed"),
        ("conference", "1001", "12315", "agent_left"),
    ]
    conference = record["legs"][2]
    assert conference["answered_at"].timestamp() == MORNING + 56
    assert conference["ended_at"].timestamp() == MORNING + 90
    [row] = await book.report(GroupBy.DAY, DAY, DAY)
    assert (row["answered"], row["transfers"], row["conferences"]) == (1, 0, 1)
    assert (row["rated"], row["satisfaction_rate"]) == (1, 1.0)
    [agent_row] = await book.report(GroupBy.AGENT, DAY, DAY)
    assert (agent_row["offered"], agent_row["not_answered"]) == (1, 0)  # numbers dialled are not offers


async def test_a_consult_the_agent_joins_into_a_three_way_call_from_the_phone_is_one_leg(
    engine, clock
) -> None:
    book = book_on(engine, clock)
    dialled = {"agent": "1001", "by": "1001", "to": "110", "linkage": "110"}
    arrived = clock.now
    call(
        book, clock, "phone-keys",
        (3.0, "acd.offered", {"agent": "1001"}),
        (5.0, "call.bridged", {"agent": "1001"}),
        (20.0, "call.transfer", {**dialled, "mode": "attended", "state": "ringing"}),
        (24.0, "call.transfer", {**dialled, "mode": "attended", "state": "answered"}),
    )  # fmt: skip
    await book.write()  # the consult's leg is written while it is still a consult
    call(
        book, clock, "phone-keys",
        (30.0, "call.conference", {**dialled, "mode": "three-way", "state": "joined"}),
        (60.0, "call.conference", {**dialled, "mode": "three-way", "state": "agent_left"}),
        (90.0, "call.hangup", {"ended_by": "caller"}),
        arrived=arrived,
    )  # fmt: skip
    await book.write()
    [record] = await book.store.records(DAY, 10)
    legs = [(leg["kind"], leg["target"], leg["mode"], leg["result"]) for leg in record["legs"]]
    assert legs == [("offer", "", "", "answered"), ("conference", "110", "three-way", "agent_left")]
    assert record["legs"][1]["answered_at"].timestamp() == MORNING + 24
    assert (record["conferences"], record["disposition"]) == (1, "three_way")


async def test_live_figures_for_the_wallboard(engine, clock) -> None:
    book = book_on(engine, clock)
    await a_morning(book, clock)
    live = await book.live()
    assert live["today"]["offered"] == 7 and live["last_24h"]["answer_rate"] == 0.4
    assert live["last_24h"]["target"] == 0.95 and live["last_24h"]["met"] is False
    assert [s["key"] for s in live["skills"]] == ["general"]
    nine = [h for h in live["half_hours"] if h["start"] == "2026-11-02T09:00:00+08:00"]
    assert nine and nine[0]["offered"] == 7 and nine[0]["agents_ready"] > 0


async def test_the_wallboard_reads_the_days_calls_once_then_keeps_its_chart_from_what_it_hears(
    engine, clock
) -> None:
    """Reading the whole day at every tick made the controller's memory grow with the day's calls."""
    book = book_on(engine, clock)
    await a_morning(book, clock)
    nine = "2026-11-02T09:00:00+08:00"
    before = next(h for h in (await book.live())["half_hours"] if h["start"] == nine)

    async def read_again(day: date) -> None:
        raise AssertionError(f"the calls of {day} were read again")

    book.store.day_calls = read_again  # type: ignore[method-assign]
    clock.now = MORNING + 1500
    queued = (2.0, "acd.queued", {"skill": "general"})
    call(book, clock, "late-abandoned", queued, (30.0, "call.hangup", {}))
    call(book, clock, "late-answered", queued, (40.0, "call.bridged", {"agent": "1001"}))
    await book.write()
    after = next(h for h in (await book.live())["half_hours"] if h["start"] == nine)
    assert after["offered"] == before["offered"] + 2
    assert (after["answered"], after["abandoned"]) == (before["answered"] + 1, before["abandoned"] + 1)
    assert after["waiting"] > before["waiting"]


async def test_a_call_heard_while_the_wallboard_reads_the_day_is_on_its_chart(engine, clock) -> None:
    book = book_on(engine, clock)
    await a_morning(book, clock)
    read = book.store.day_calls

    async def slow_read(day: date):
        found = await read(day)
        clock.now = MORNING + 1500
        call(
            book,
            clock,
            "heard-meanwhile",
            (2.0, "acd.queued", {"skill": "general"}),
            (30.0, "call.hangup", {}),
        )
        await book.write()  # and written meanwhile (the book's own round, beside a read from the API)
        return found

    book.store.day_calls = slow_read  # type: ignore[method-assign]
    nine = next(h for h in (await book.live())["half_hours"] if h["start"] == "2026-11-02T09:00:00+08:00")
    assert nine["offered"] == 8, "the morning's seven calls and the one heard during the read"


async def test_a_record_left_open_by_a_killed_controller_is_closed_by_the_next(engine, clock) -> None:
    book = book_on(engine, clock)
    call(
        book,
        clock,
        "c-open",
        (2.0, "acd.queued", {"skill": "general"}),
        (5.0, "call.bridged", {"agent": "1001"}),
    )
    await book.write()  # then the controller dies
    clock.now += 100
    after = book_on(engine, clock)
    await after.start()
    after.hear(
        {"type": "call.hangup", "call_id": "c-open", "line": "12345", "caller_number": "13800000000",
         "at": clock.now, "cause": "gone while the controller was away", "ended_by": "system"}
    )  # fmt: skip
    await after.write()
    [record] = await after.store.records(DAY, 10)
    assert record["outcome"] == "answered" and record["agent"] == "1001" and record["talk_seconds"] == 100.0
    assert record["ended_by"] == "system" and record["cause"] == "gone while the controller was away"


async def test_a_failed_write_is_kept_and_written_next_time(engine, clock, monkeypatch) -> None:
    book = book_on(engine, clock)
    call(book, clock, "c1", (1.0, "call.hangup", {}))
    real = book.store.apply
    attempts = []

    async def flaky(batch):
        attempts.append(len(batch))
        if len(attempts) == 1:
            raise ConnectionError("database away")
        await real(batch)

    monkeypatch.setattr(book.store, "apply", flaky)
    await book.write()
    assert len(attempts) == 2 and [r["call_id"] for r in await book.store.records(DAY, 10)] == ["c1"]


#: The day of issue 28's tests: a caller still waiting from the first minute, then one call of each other
#: kind (an answer within 15 s and one after, a caller waiting through the only agent's break, a three-way
#: call, a transfer, a callback, a voicemail, a caller giving up at once and one giving up later).
DAY_OF_EVERY_KIND = (
    ("waiting", 0.0),
    ("answered", 8.0),
    ("waited_through_a_break", 95.0),
    ("three_way", 3.0),
    ("transfer", 20.0),
    ("callback", 30.0),
    ("voicemail", 0.0),
    ("abandoned", 2.0),
    ("abandoned", 40.0),
    ("answered", 15.0),
)


def placed_day(book: RecordBook, clock: Clock) -> list[day.Placed]:
    calls = day.placed_one_after_another(
        [kind for kind, _ in DAY_OF_EVERY_KIND], [wait for _, wait in DAY_OF_EVERY_KIND], MORNING
    )
    for at, event in day.day_events(calls, MORNING - 600):
        clock.now = at
        book.hear(event)
    clock.now += 60
    return calls


async def test_a_day_of_every_kind_of_call_counts_each_figure_as_the_calls_were_placed(engine, clock) -> None:
    """Issue 28: a caller still waiting was counted as abandoned, and a three-way call as a transfer too."""
    book = book_on(engine, clock)
    calls = placed_day(book, clock)
    await book.write()
    expected = day.by_hand(calls)
    assert expected["waiting"] == 1 and expected["requested"] == 8 and expected["answered"] == 5
    [row] = await book.report(GroupBy.DAY, DAY, DAY)
    assert (row["abandoned"], row["answer_rate"], row["transfers"]) == (
        expected["abandoned"],
        expected["answer_rate"],
        expected["transfers"],
    ), "the caller still waiting is not abandoned, and no rate counts them"
    assert {name: row[name] for name in expected} == expected
    live = await book.live()
    assert {name: live["today"][name] for name in expected} == expected
    last_24h = live["last_24h"]
    assert (last_24h["answer_rate"], last_24h["requested"], last_24h["waiting"]) == (
        expected["answer_rate"],
        expected["requested"],
        1,
    )
    counted = {
        index: (slot["offered"], slot["answered"], slot["abandoned"])
        for index, slot in enumerate(live["half_hours"])
        if slot["offered"]
    }
    start, _ = day_span(DAY, DAY, ZONE)
    assert counted == day.half_hours_by_hand(calls, start)
    [still] = book.waiting()
    [waiting] = [c for c in calls if c.kind == "waiting"]
    assert (still["call_id"], still["caller_number"], still["line"]) == (
        waiting.call_id,
        waiting.caller_number,
        "12345",
    )
    assert still["waited_seconds"] == round(clock.now - waiting.queued)
    records = {r["call_id"]: r for r in await book.store.records(DAY, 50)}
    assert (records[waiting.call_id]["outcome"], records[waiting.call_id]["ended_at"]) == (
        "in_progress",
        None,
    )
    [voicemail] = [c for c in calls if c.kind == "voicemail"]
    assert records[voicemail.call_id]["recording_ids"] == [900 + calls.index(voicemail)]

    # The caller who waited all along is answered at last: answered, and the rate counts them now.
    about = {"call_id": waiting.call_id, "caller_number": waiting.caller_number, "line": "12345"}
    book.hear({"type": "call.bridged", **about, "agent": "1001", "at": clock.now})
    await book.write()
    [row] = await book.report(GroupBy.DAY, DAY, DAY)
    assert (row["waiting"], row["answered"], row["requested"], row["abandoned"]) == (
        0,
        expected["answered"] + 1,
        expected["requested"] + 1,
        expected["abandoned"],
    )
    assert row["answer_rate"] == round((expected["answered"] + 1) / (expected["requested"] + 1), 4)
    assert book.waiting() == []


async def test_a_caller_who_gave_up_before_the_controller_died_keeps_the_wait_they_had(engine, clock) -> None:
    book = book_on(engine, clock)
    call(book, clock, "c-gave-up", (2.0, "acd.queued", {"skill": "general"}), (12.0, "acd.abandoned", {}))
    await book.write()  # then the controller dies before the hang-up is heard
    clock.now += 100
    after = book_on(engine, clock)
    await after.start()
    after.reconciled(set(), "gone while the controller was away")
    await after.write()
    [record] = await after.store.records(DAY, 10)
    assert (record["outcome"], record["wait_seconds"]) == ("abandoned", 10.0)


async def test_a_voicemails_call_its_recording_and_its_ticket_are_linked_both_ways(
    engine, clock, filing_desk, tmp_path
) -> None:
    """Issue 28: the record had recording_ids [] and the ticket's call_id was voicemail-…; the dialplan now
    names the call in the message (VM_CATEGORY, written as its category)."""
    book = book_on(engine, clock)
    call_id = "hotline-1796222470.7"
    call(book, clock, call_id, (2.0, "ivr.voicemail", {"reason": "无坐席值守"}), (60.0, "call.hangup", {}))
    await book.write()

    async def publish(event: dict) -> None:
        book.hear(event)  # as the controller hands the record book every event it publishes

    shelf = RecordingShelf(engine, tmp_path / "recordings", publish, zone=ZONE)
    filing_desk.on_call_linked = shelf.file_under

    async def where() -> tuple[str, str]:
        return UNCLASSIFIED_CATEGORY, await filing_desk.directory.root_region()

    leave(tmp_path / "INBOX", info=INFO.replace("category=\n", f"category={call_id}\n"))
    [number] = await VoicemailBox(tmp_path / "INBOX", filing_desk, shelf, where, ZONE, None).collect()
    await book.write()
    [record] = await book.store.records(DAY, 10)
    [kept] = await shelf.of_calls([call_id])
    assert record["recording_ids"] == [kept["id"]], "the call's record lists its voicemail"
    ticket = await filing_desk.show(number, Actor("agent1", Role.AGENT))
    assert ticket["intake"]["call_id"] == call_id, "the ticket names the call"
    assert (kept["kind"], kept["call_id"], kept["ticket"]) == ("voicemail", call_id, number)
    assert await filing_desk.call_ids(number, Actor("agent1", Role.AGENT)) == [call_id]
