"""Call events as a person would follow them, from a real call's AMI event order."""

from hotline.kernel.asterisk.channels import CallTracker, account_of
from tests.unit.call_channels import AGENT, CALLER


def tracker() -> CallTracker:
    return CallTracker(is_agent=lambda account: account == "1001", clock=lambda: 100.0)


def play(t: CallTracker, *events: dict) -> list[dict]:
    return [e for event in events for e in t.handle(event)]


def test_a_call_from_ring_to_hangup():
    t = tracker()
    events = play(
        t,
        {"Event": "Newchannel", **CALLER},
        {"Event": "Newstate", **CALLER, "ChannelStateDesc": "Up"},
        {"Event": "Newchannel", **AGENT},
        {"Event": "Newstate", **AGENT, "ChannelStateDesc": "Up"},
        {"Event": "BridgeEnter", **CALLER, "BridgeUniqueid": "b1"},
        {"Event": "BridgeEnter", **AGENT, "BridgeUniqueid": "b1"},
        {"Event": "Hangup", **AGENT, "Cause-txt": "Normal Clearing"},
        {"Event": "Hangup", **CALLER, "Cause-txt": "Normal Clearing"},
    )
    assert [e["type"] for e in events] == ["call.ringing", "call.answered", "call.bridged", "call.hangup"]
    assert all(e["caller_name"] == "张三" and e["caller_number"] == "13800138000" for e in events)
    assert events[2]["agent"] == "1001"
    assert t.calls == {}


def answered_call(t: CallTracker) -> None:
    play(
        t,
        {"Event": "Newchannel", **CALLER},
        {"Event": "Newchannel", **AGENT},
        {"Event": "BridgeEnter", **CALLER, "BridgeUniqueid": "b1"},
        {"Event": "BridgeEnter", **AGENT, "BridgeUniqueid": "b1"},
    )


def test_the_hangup_names_the_side_that_hung_up_first():
    for first, second, side in ((AGENT, CALLER, "agent"), (CALLER, AGENT, "caller")):
        t = tracker()
        answered_call(t)
        events = play(
            t,
            {"Event": "HangupRequest", **first},
            {"Event": "SoftHangupRequest", **second, "Cause": "16"},
            {"Event": "HangupRequest", **second},  # a late BYE from the other side changes nothing
            {"Event": "Hangup", **first},
            {"Event": "Hangup", **second},
        )
        assert events[-1]["type"] == "call.hangup" and events[-1]["ended_by"] == side


def test_a_call_nobody_hung_up_was_ended_by_the_system():
    t = tracker()
    answered_call(t)
    events = play(t, {"Event": "Hangup", **AGENT}, {"Event": "Hangup", **CALLER})
    assert events[-1]["ended_by"] == "system"


def test_reconcile_rebuilds_live_calls_and_reports_vanished_ones():
    t = tracker()
    play(t, {"Event": "Newchannel", **CALLER})
    events = t.reconcile(
        [{**AGENT, "Linkedid": "h-2.0", "Uniqueid": "h-2.0", "ChannelStateDesc": "Up", "BridgeId": "b"}]
    )
    assert [(e["type"], e["call_id"]) for e in events] == [
        ("call.answered", "h-2.0"),
        ("call.hangup", "h-1.0"),
    ]
    assert set(t.calls) == {"h-2.0"} and t.calls["h-2.0"].state == "answered"


def test_account_of_channel_names():
    assert account_of("PJSIP/1001-0000000a") == "1001"
    assert account_of("Local/1001@x-1;1") == ""


def test_reconcile_takes_the_callers_number_whichever_leg_asterisk_lists_first():
    t = tracker()
    up = {"ChannelStateDesc": "Up", "BridgeId": "b"}
    t.reconcile([{**AGENT, **up}, {**CALLER, **up}])
    call = t.calls["h-1.0"]
    assert (call.caller_number, call.caller_name, call.agent) == ("13800138000", "张三", "1001")


def test_a_call_that_ended_while_no_controller_ran_still_gets_its_hang_up():
    """A load test once answered 1,040 calls and published 855 hang-ups: the rest ended during a restart."""
    before = tracker()
    play(
        before,
        {"Event": "Newchannel", **CALLER},
        {"Event": "Newstate", **CALLER, "ChannelStateDesc": "Up"},
        {"Event": "Newchannel", **AGENT},
        {"Event": "BridgeEnter", **CALLER, "BridgeUniqueid": "b1"},
        {"Event": "BridgeEnter", **AGENT, "BridgeUniqueid": "b1"},
    )
    saved = {call_id: call.summary() for call_id, call in before.calls.items()}
    restarted = tracker()
    restarted.remember(saved)
    gone = restarted.reconcile([])
    assert [(e["type"], e["call_id"], e["caller_number"], e["agent"]) for e in gone] == [
        ("call.hangup", "h-1.0", "13800138000", "1001")
    ]
    assert restarted.calls == {}


def test_a_call_that_died_with_asterisk_says_asterisk_restarted():
    """It once said only 'gone while the controller was away' when Asterisk itself had restarted."""
    t = tracker()  # its clock says 100.0: the call began then
    play(t, {"Event": "Newchannel", **CALLER})
    [ended] = t.reconcile([], asterisk_started=160.0)
    assert ended["cause"] == "Asterisk restarted"
    play(t, {"Event": "Newchannel", **CALLER})
    [vanished] = t.reconcile([], asterisk_started=40.0)  # Asterisk ran all along; the call ended unseen
    assert vanished["cause"] == "gone while the controller was away"


def test_a_call_the_fallback_queue_answered_while_no_controller_ran_appears_at_the_reconcile():
    t = tracker()
    up = {"ChannelStateDesc": "Up", "BridgeId": "b"}
    [found] = t.reconcile([{**CALLER, **up}, {**AGENT, **up}])
    assert (found["type"], found["call_id"], found["agent"]) == ("call.bridged", "h-1.0", "1001")
    assert t.reconcile([{**CALLER, **up}, {**AGENT, **up}]) == [], "a call known already is not told twice"


def test_a_waiting_call_the_fallback_queue_answered_is_reported_bridged_at_the_reconcile():
    t = tracker()
    play(t, {"Event": "Newchannel", **CALLER}, {"Event": "Newstate", **CALLER, "ChannelStateDesc": "Up"})
    up = {"ChannelStateDesc": "Up", "BridgeId": "b"}
    [moved_on] = t.reconcile([{**CALLER, **up}, {**AGENT, **up}])
    assert (moved_on["type"], moved_on["agent"]) == ("call.bridged", "1001")


def test_a_mapped_number_is_reported_as_its_line():
    """An old department number (the number map) rings as that department's line on every event."""
    mapped = {"88001234": "12315"}
    t = CallTracker(is_agent=lambda a: False, clock=lambda: 100.0, line_of=lambda n: mapped.get(n, n))
    [ringing] = play(t, {"Event": "Newchannel", **CALLER, "Exten": "88001234"})
    assert (ringing["type"], ringing["line"]) == ("call.ringing", "12315")
