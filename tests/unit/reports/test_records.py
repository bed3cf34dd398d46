"""Call records folded from the controller's events, as a supervisor would read them afterwards."""

from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.reports.figures import half_hours
from hotline.reports.records import (
    CallbackMade,
    CallRecord,
    EndedBy,
    Interval,
    Leg,
    LegKind,
    Outcome,
    Recorder,
    RecordingFiled,
    WrapUpEnded,
    day_call,
    disposition,
)
from tests.unit.reports import day

ABOUT = {"call_id": "c1", "caller_number": "13800138000", "caller_name": "", "line": "12345"}


def fold(*events: tuple[float, dict]) -> tuple[Recorder, list]:
    recorder = Recorder(lines={"12345", "12315"})
    changes = []
    for at, event in events:
        changes.extend(recorder.hear(event, at))
    return recorder, changes


def last_record(changes: list) -> CallRecord:
    return [c for c in changes if isinstance(c, CallRecord)][-1]


def test_an_answered_call_records_its_wait_talk_agent_and_who_hung_up():
    recorder, changes = fold(
        (100.0, {"type": "call.ringing", **ABOUT, "at": 100.0}),
        (103.0, {"type": "acd.queued", **ABOUT, "skill": "general", "priority": 0}),
        (104.0, {"type": "acd.offered", **ABOUT, "agent": "1001"}),
        (119.0, {"type": "acd.not_answered", **ABOUT, "agent": "1001", "dial_status": "NOANSWER"}),
        (120.0, {"type": "acd.offered", **ABOUT, "agent": "1002"}),
        (125.0, {"type": "call.bridged", **ABOUT, "agent": "1002", "at": 125.0}),
        (185.0, {"type": "call.hangup", **ABOUT, "agent": "1002", "at": 185.0, "ended_by": "agent"}),
    )
    record = last_record(changes)
    assert record.outcome is Outcome.ANSWERED and record.agent == "1002" and record.skill == "general"
    assert (record.wait_seconds, record.talk_seconds, record.offers) == (22.0, 60.0, 2)
    assert record.ended_by == EndedBy.AGENT
    legs = {(c.seq, c.agent): c.result for c in changes if isinstance(c, Leg)}
    assert legs == {(1, "1001"): "not_answered", (2, "1002"): "answered"}
    assert recorder.calls == {} and recorder.legs == {}  # nothing kept once the call is over


def test_outcomes_say_how_an_unanswered_call_ended():
    def outcome(*steps: dict) -> Outcome:
        events = [(100.0 + i, {**ABOUT, **step}) for i, step in enumerate(steps)]
        _, changes = fold(*events, (200.0, {"type": "call.hangup", **ABOUT, "at": 200.0}))
        return last_record(changes).outcome

    ringing, queued = {"type": "call.ringing"}, {"type": "acd.queued", "skill": "general"}
    assert outcome(ringing) is Outcome.IVR
    assert outcome(ringing, queued, {"type": "acd.abandoned", "waited": 3}) is Outcome.ABANDONED
    assert outcome(ringing, queued, {"type": "acd.callback_requested"}) is Outcome.CALLBACK
    assert outcome(ringing, {"type": "ivr.voicemail", "reason": "closed"}) is Outcome.VOICEMAIL
    assert outcome(ringing, {"type": "ivr.emergency", "number": "110"}) is Outcome.EMERGENCY


def test_an_abandoned_call_waited_until_the_caller_gave_up():
    _, changes = fold(
        (100.0, {"type": "call.ringing", **ABOUT}),
        (102.0, {"type": "acd.queued", **ABOUT, "skill": "general"}),
        (109.0, {"type": "acd.offered", **ABOUT, "agent": "1001"}),
        (110.0, {"type": "acd.abandoned", **ABOUT, "waited": 8}),
        (110.5, {"type": "call.hangup", **ABOUT, "ended_by": "caller"}),
    )
    record = last_record(changes)
    assert record.wait_seconds == 8.0 and record.ended_by == EndedBy.CALLER
    assert [c.result for c in changes if isinstance(c, Leg)][-1] == "withdrawn"  # not the agent's miss


def test_calls_on_other_numbers_get_no_record_unless_the_ivr_or_acd_names_them():
    monitor = {"call_id": "m1", "caller_number": "9001", "caller_name": "", "line": "s"}
    _, changes = fold((1.0, {"type": "call.ringing", **monitor}), (2.0, {"type": "call.hangup", **monitor}))
    assert changes == []
    _, changes = fold((1.0, {"type": "acd.queued", **monitor, "skill": "general"}))
    assert last_record(changes).queued_at == 1.0


def test_a_callback_not_answered_leaves_the_closed_record_alone():
    _, changes = fold((500.0, {"type": "acd.not_answered", **ABOUT, "agent": "1003", "dial_status": "BUSY"}))
    assert changes == []


def test_a_callback_long_after_the_call_lands_on_the_calls_record():
    _, changes = fold((500.0, {"type": "acd.callback_answered", **ABOUT, "agent": "1003"}))
    assert changes == [CallbackMade("c1", 500.0, "1003")]


def test_agent_intervals_open_and_close_and_the_wrap_up_counts_for_its_call():
    state = {"type": "agent.state", "agent": "1001", "call_id": None, "break_reason": None}
    _, changes = fold(
        (0.0, {**state, "state": "ready", "since": 10.0}),
        (0.0, {**state, "state": "ready", "since": 10.0, "phone": "in_use"}),  # same state: nothing new
        (0.0, {**state, "state": "talking", "call_id": "c1", "since": 40.0}),
        (0.0, {**state, "state": "wrap_up", "since": 100.0}),  # the ACD names no call once it ended
        (0.0, {**state, "state": "break", "break_reason": "用餐", "since": 130.0}),
    )
    assert changes == [
        Interval("1001", "ready", "", 10.0),
        Interval("1001", "ready", "", 10.0, ended_at=40.0),
        Interval("1001", "talking", "", 40.0, "c1"),
        Interval("1001", "talking", "", 40.0, "c1", ended_at=100.0),
        Interval("1001", "wrap_up", "", 100.0, "c1"),
        Interval("1001", "wrap_up", "", 100.0, "c1", ended_at=130.0),
        WrapUpEnded("c1", 30.0),
        Interval("1001", "break", "用餐", 130.0),
    ]


def test_a_record_left_open_by_a_previous_controller_is_closed_by_the_reconcile():
    recorder = Recorder(lines={"12345"})
    recorder.remember([CallRecord("c1", "12345", "13800138000", 100.0, queued_at=101.0)], [])
    changes = recorder.hear(
        {"type": "call.hangup", **ABOUT, "at": 300.0, "cause": "Asterisk restarted", "ended_by": "system"},
        300.0,
    )
    record = last_record(changes)
    assert record.outcome is Outcome.ABANDONED and record.cause == "Asterisk restarted"
    assert record.ended_at == 300.0 and record.ended_by == EndedBy.SYSTEM


def test_the_talk_ends_when_the_agent_stops_talking_though_the_call_goes_on():
    state = {"type": "agent.state", "agent": "1002", "break_reason": None}
    _, changes = fold(
        (100.0, {"type": "call.ringing", **ABOUT}),
        (103.0, {"type": "acd.queued", **ABOUT, "skill": "general"}),
        (110.0, {"type": "acd.offered", **ABOUT, "agent": "1002"}),
        (0.0, {**state, "state": "talking", "call_id": "c1", "since": 112.0}),
        (112.0, {"type": "call.bridged", **ABOUT, "agent": "1002"}),
        (0.0, {**state, "state": "wrap_up", "call_id": "c1", "since": 142.0}),
        (150.0, {"type": "call.hangup", **ABOUT, "ended_by": "agent"}),  # the caller heard a goodbye first
    )
    assert last_record(changes).talk_seconds == 30.0


def test_a_flows_event_after_the_hang_up_does_not_reopen_the_call():
    recorder, changes = fold(
        (100.0, {"type": "call.ringing", **ABOUT}),
        (103.0, {"type": "acd.queued", **ABOUT, "skill": "general"}),
        (130.0, {"type": "call.hangup", **ABOUT, "ended_by": "caller"}),
        (130.2, {"type": "ivr.position", **ABOUT, "ahead": 3}),  # the flow had not noticed yet
    )
    assert last_record(changes).ended_at == 130.0
    assert recorder.calls == {}, "nothing is left open in memory, nor written back open"


def test_records_left_open_for_calls_asterisk_no_longer_has_are_closed_after_a_reconcile():
    recorder = Recorder(lines={"12345"})
    recorder.remember(
        [
            CallRecord("gone", "12345", "138", 100.0, queued_at=101.0),
            CallRecord("live", "12345", "139", 150.0),
        ],
        [],
    )
    changes = recorder.close_missing({"live"}, 400.0, "gone while the controller was away")
    [closed] = [c for c in changes if isinstance(c, CallRecord)]
    assert (closed.call_id, closed.ended_at, closed.outcome) == ("gone", 400.0, Outcome.ABANDONED)
    assert closed.ended_by == EndedBy.SYSTEM and set(recorder.calls) == {"live"}


def test_a_caller_handed_on_counts_one_transfer_and_the_colleagues_answer_settles_their_offer():
    talking = {"type": "agent.state", "state": "talking", "break_reason": ""}
    _, changes = fold(
        (100.0, {"type": "call.ringing", **ABOUT, "at": 100.0}),
        (101.0, {"type": "acd.queued", **ABOUT, "skill": "12345", "priority": "normal"}),
        (102.0, {"type": "acd.offered", **ABOUT, "agent": "1001"}),
        (103.0, {"type": "call.bridged", **ABOUT, "agent": "1001", "at": 103.0}),
        (103.0, {**talking, "agent": "1001", "call_id": "c1", "since": 103.0}),
        (130.0, {"type": "call.transfer", **ABOUT, "to": "agent:1002", "state": "queued"}),
        (131.0, {"type": "acd.queued", **ABOUT, "skill": "12345", "agent": "1002", "transferred_by": "1001"}),
        (132.0, {"type": "acd.offered", **ABOUT, "agent": "1002"}),
        (134.0, {**talking, "agent": "1002", "call_id": "c1", "since": 134.0}),
        (140.0, {"type": "call.conference", **ABOUT, "to": "12315", "state": "joined", "agent": "1002"}),
        (150.0, {"type": "call.conference", **ABOUT, "to": "12315", "state": "agent_left", "agent": "1002"}),
        (190.0, {"type": "call.hangup", **ABOUT, "agent": "1001", "at": 190.0, "ended_by": "caller"}),
    )
    record = last_record(changes)
    # The hand-back to a colleague is a transfer; the three-way call the colleague then left is not one.
    assert (record.agent, record.transfers, record.offers, record.queued_at) == ("1001", 1, 2, 101.0)
    assert (record.conferences, record.legs) == (1, 3)
    legs = {(c.seq, c.agent, c.kind): c.result for c in changes if isinstance(c, Leg)}
    assert legs == {
        (1, "1001", LegKind.OFFER): "answered",
        (2, "1002", LegKind.OFFER): "answered",
        (3, "1002", LegKind.CONFERENCE): "agent_left",
    }


def test_each_number_an_agent_dials_is_a_leg_of_its_own_from_dialling_to_its_end():
    """A refused transfer to 12333, then a three-way call with 12315 that the department leaves."""
    dialled = {**ABOUT, "agent": "1001", "by": "1001"}
    _, changes = fold(
        (100.0, {"type": "call.ringing", **ABOUT}),
        (101.0, {"type": "acd.queued", **ABOUT, "skill": "12345"}),
        (102.0, {"type": "acd.offered", **ABOUT, "agent": "1001"}),
        (103.0, {"type": "call.bridged", **ABOUT, "agent": "1001"}),
        (110.0, {"type": "call.transfer", **dialled, "to": "12333", "mode": "attended", "state": "dialling"}),
        (111.0, {"type": "call.transfer", **dialled, "to": "12333", "mode": "attended", "state": "ringing"}),
        (131.0, {"type": "call.transfer", **dialled, "to": "12333", "mode": "attended", "state": "failed"}),
        (
            140.0,
            {"type": "call.conference", **dialled, "to": "12315", "mode": "conference", "state": "dialling"},
        ),
        (
            145.0,
            {"type": "call.conference", **dialled, "to": "12315", "mode": "conference", "state": "answered"},
        ),
        (
            150.0,
            {"type": "call.conference", **dialled, "to": "12315", "mode": "conference", "state": "joined"},
        ),
        (170.0, {"type": "call.conference", **dialled, "to": "12315", "state": "department_left"}),
        (200.0, {"type": "call.hangup", **ABOUT, "ended_by": "caller"}),
    )
    final = {}
    for change in changes:
        if isinstance(change, Leg):
            final[change.seq] = change
    transfer, conference = final[2], final[3]
    assert (transfer.kind, transfer.to, transfer.mode, transfer.result) == (
        LegKind.TRANSFER,
        "12333",
        "attended",
        "failed",
    )
    assert (transfer.offered_at, transfer.answered_at, transfer.ended_at) == (110.0, None, 131.0)
    assert (conference.kind, conference.to, conference.result) == (
        LegKind.CONFERENCE,
        "12315",
        "department_left",
    )
    assert (conference.offered_at, conference.answered_at, conference.ended_at) == (140.0, 145.0, 170.0)
    assert final[1].ended_at == 200.0  # the agent's answered offer lasted until the call ended
    record = last_record(changes)
    assert (record.transfers, record.conferences, record.legs, record.outcome) == (0, 1, 3, Outcome.ANSWERED)


def test_a_number_still_ringing_when_the_caller_hangs_up_is_withdrawn_not_refused():
    _, changes = fold(
        (100.0, {"type": "call.ringing", **ABOUT}),
        (103.0, {"type": "call.bridged", **ABOUT, "agent": "1001"}),
        (110.0, {"type": "call.transfer", **ABOUT, "agent": "1001", "to": "110", "state": "ringing"}),
        (112.0, {"type": "call.hangup", **ABOUT, "ended_by": "caller"}),
    )
    [leg] = [c for c in changes if isinstance(c, Leg)][-1:]
    assert (leg.to, leg.result, leg.ended_at) == ("110", "withdrawn", 112.0)


def test_a_recording_filed_after_the_call_ended_is_a_change_of_that_call():
    recorder, changes = fold(
        (100.0, {"type": "call.ringing", **ABOUT}),
        (110.0, {"type": "call.hangup", **ABOUT}),
        (111.0, {"type": "recording.filed", "call_id": "c1", "recording_id": 7, "kind": "conversation"}),
        (111.0, {"type": "recording.filed", "call_id": "c1", "recording_id": "7"}),  # not the register's id
    )
    assert changes[-1] == RecordingFiled("c1", 7) and recorder.calls == {}


def test_the_callers_rating_after_the_talk_is_on_the_record():
    _, changes = fold(
        (100.0, {"type": "call.ringing", **ABOUT}),
        (103.0, {"type": "call.bridged", **ABOUT, "agent": "1001"}),
        (160.0, {"type": "ivr.survey", **ABOUT, "agent": "1001", "rating": "satisfied"}),
        (163.0, {"type": "call.hangup", **ABOUT, "ended_by": "system"}),
    )
    assert last_record(changes).rating == "satisfied"


def test_a_records_disposition_says_whether_an_answered_call_went_three_way_or_was_handed_on():
    assert disposition("answered", 0, 0) == "answered"
    assert disposition("answered", 1, 0) == "transferred"
    assert disposition("answered", 1, 1) == "three_way"  # the agent left caller and 12315 together
    assert disposition("abandoned", 0, 0) == "abandoned" and disposition("emergency", 0, 0) == "emergency"


def test_a_caller_still_waiting_is_in_progress_neither_answered_nor_abandoned_until_the_call_says():
    """Issue 28: one caller queued showed 今日放弃 1 and "outcome": "abandoned" with "ended_at": null."""
    waiting = (
        (100.0, {"type": "call.ringing", **ABOUT}),
        (102.0, {"type": "acd.queued", **ABOUT, "skill": "general"}),
        (110.0, {"type": "acd.offered", **ABOUT, "agent": "1001"}),
        (116.0, {"type": "acd.not_answered", **ABOUT, "agent": "1001", "dial_status": "NOANSWER"}),
    )
    recorder, changes = fold(*waiting)
    record = last_record(changes)
    assert (record.outcome, record.ended_at, record.wait_seconds) == (Outcome.IN_PROGRESS, None, None)
    assert disposition(record.outcome, record.transfers, record.conferences) == "in_progress"
    answered = last_record(recorder.hear({"type": "call.bridged", **ABOUT, "agent": "1002"}, 130.0))
    assert (answered.outcome, answered.wait_seconds) == (Outcome.ANSWERED, 28.0)  # before the call ends
    _, changes = fold(*waiting, (140.0, {"type": "call.hangup", **ABOUT, "ended_by": "caller"}))
    gone = last_record(changes)
    assert (gone.outcome, gone.wait_seconds) == (Outcome.ABANDONED, 38.0)  # gone without a word: given up
    _, changes = fold((100.0, {"type": "call.ringing", **ABOUT}))
    assert last_record(changes).outcome is Outcome.IN_PROGRESS  # in the greeting: not an IVR ending yet


def test_a_three_way_call_the_agent_leaves_counts_as_a_conference_only():
    """Issue 28: a record showed transfers=1, conferences=1 for a three-way call and no transfer."""
    dialled = {**ABOUT, "agent": "1001", "by": "1001", "to": "12315", "mode": "conference"}
    _, changes = fold(
        (100.0, {"type": "call.ringing", **ABOUT}),
        (103.0, {"type": "call.bridged", **ABOUT, "agent": "1001"}),
        *[
            (at, {"type": "call.conference", **dialled, "state": state})
            for at, state in (
                (110.0, "dialling"),
                (115.0, "answered"),
                (116.0, "joined"),
                (150.0, "agent_left"),
            )
        ],
        (200.0, {"type": "call.hangup", **ABOUT, "ended_by": "caller"}),
    )
    record = last_record(changes)
    assert (record.transfers, record.conferences) == (0, 1)
    assert disposition(record.outcome, record.transfers, record.conferences) == "three_way"


OUTCOME_OF_KIND = {
    "answered": Outcome.ANSWERED,
    "waiting": Outcome.IN_PROGRESS,
    "waited_through_a_break": Outcome.ANSWERED,
    "three_way": Outcome.ANSWERED,
    "transfer": Outcome.ANSWERED,
    "callback": Outcome.CALLBACK,
    "voicemail": Outcome.VOICEMAIL,
    "abandoned": Outcome.ABANDONED,
}
DAY_START = 1_793_577_600.0  # 2026-11-02 08:00 in Beijing


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(day.KINDS), st.integers(0, 90)), min_size=1, max_size=16))
def test_a_generated_day_folds_into_one_record_per_call_as_each_call_went(placed):
    calls = day.placed_one_after_another(
        [k for k, _ in placed], [float(w) for _, w in placed], DAY_START + 60
    )
    recorder = Recorder(lines={day.LINE})
    records: dict[str, CallRecord] = {}
    recordings: dict[str, list[int]] = {}
    made: set[str] = set()
    for at, event in day.day_events(calls, DAY_START):
        for change in recorder.hear(event, at):
            if isinstance(change, CallRecord):
                records[change.call_id] = change
            elif isinstance(change, RecordingFiled):
                recordings.setdefault(change.call_id, []).append(change.recording_id)
            elif isinstance(change, CallbackMade):
                made.add(change.call_id)
    assert set(records) == {call.call_id for call in calls}
    for call in calls:
        record = records[call.call_id]
        assert record.outcome is OUTCOME_OF_KIND[call.kind], call
        assert (record.transfers, record.conferences) == (call.kind == "transfer", call.kind == "three_way")
        if call.kind in day.ANSWERED or call.kind == "abandoned":
            assert record.wait_seconds == call.wait
        if call.kind == "waiting":
            assert record.ended_at is None and record.wait_seconds is None
    assert set(recorder.calls) == {call.call_id for call in calls if call.kind == "waiting"}
    assert set(recordings) == {call.call_id for call in calls if call.kind == "voicemail"}
    assert made == {call.call_id for call in calls if call.kind == "callback"}
    # The wallboard's chart of the same day: each half hour counts what arrived in it, as placed.
    now = max(call.ends for call in calls)
    slots = half_hours(DAY_START, now, [day_call(r) for r in records.values()], [], ZoneInfo("Asia/Shanghai"))
    counted = {
        index: (slot["offered"], slot["answered"], slot["abandoned"])
        for index, slot in enumerate(slots)
        if slot["offered"]
    }
    assert counted == day.half_hours_by_hand(calls, DAY_START)
