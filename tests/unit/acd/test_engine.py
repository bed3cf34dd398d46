"""The ACD engine: the order calls are answered in, who answers them, and the guarantees app_queue lacks."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.acd.engine import (
    MISSED_CALLS_BREAK,
    AcdError,
    AgentState,
    Engine,
    Offer,
    PhoneStatus,
    Priority,
    QueuedCall,
    Settings,
    Strategy,
)


def centre(*accounts: str, strategy: Strategy = Strategy.LONGEST_IDLE, skills=None, **kw) -> Engine:
    engine = Engine(Settings(strategy=strategy, **kw))
    for account in accounts:
        engine.add_agent(account, (skills or {}).get(account, {"general": 5}))
        engine.login(account, 0)
    return engine


def arrive(engine: Engine, call_id: str, at: float, **kw) -> QueuedCall:
    return engine.call_arrived(
        QueuedCall(call_id, kw.pop("line", "12345"), kw.pop("skill", "general"), at, **kw)
    )


def test_calls_are_answered_in_arrival_order_within_priority() -> None:
    engine = centre("1001")
    arrive(engine, "a", 1)
    arrive(engine, "b", 2)
    arrive(engine, "elderly", 3, priority=Priority.ELDERLY)
    arrive(engine, "c", 4)
    answered = []
    now = 10.0
    engine.ready("1001", now)
    while engine.calls:
        [offer] = engine.assign(now)
        answered.append(offer.call_id)
        engine.answered(offer.call_id, "1001", now)
        engine.call_ended("1001", now + 60)
        now += 60 + engine.settings.wrap_up_seconds
    assert answered == ["elderly", "a", "b", "c"]


def test_longest_idle_agent_gets_the_call_and_wrap_up_is_honoured() -> None:
    engine = centre("1001", "1002", wrap_up_seconds=30)
    engine.ready("1002", 1)
    engine.ready("1001", 2)
    arrive(engine, "a", 3)
    assert engine.assign(3) == [Offer("a", "1002")]
    engine.answered("a", "1002", 4)
    engine.call_ended("1002", 100)
    arrive(engine, "b", 101)
    arrive(engine, "c", 102)
    assert engine.assign(102) == [Offer("b", "1001")]
    assert engine.assign(129) == [], "1002 is in wrap-up until 130"
    assert engine.assign(130) == [Offer("c", "1002")]


def test_a_call_is_never_offered_twice_and_an_agent_never_rings_twice() -> None:
    engine = centre("1001", "1002")
    for account in ("1001", "1002"):
        engine.ready(account, 0)
    for i in range(5):
        arrive(engine, f"c{i}", i)
    offers = engine.assign(10)
    assert len(offers) == 2 and len({o.account for o in offers}) == 2
    assert engine.assign(11) == []


def test_a_ring_timeout_keeps_the_place_and_tries_the_next_agent() -> None:
    engine = centre("1001", "1002")
    engine.ready("1001", 0)
    arrive(engine, "first", 1)
    arrive(engine, "second", 2)
    assert engine.assign(2) == [Offer("first", "1001")]
    engine.not_answered("first", "1001", 22)
    engine.ready("1002", 22)
    offers = engine.assign(22)
    assert Offer("first", "1002") in offers, "the first caller is still first, and goes to the other agent"
    assert Offer("second", "1001") in offers


def test_a_phone_that_is_unregistered_or_busy_is_not_offered_a_call() -> None:
    engine = centre("1001", "1002")
    engine.ready("1001", 0)
    engine.ready("1002", 1)
    engine.phone_state("1001", PhoneStatus.UNREGISTERED)
    arrive(engine, "a", 2)
    assert engine.assign(2) == [Offer("a", "1002")], "1001 is idle longest, but their phone cannot ring"
    arrive(engine, "b", 3)
    assert engine.assign(3) == []
    engine.phone_state("1001", PhoneStatus.FREE)
    assert engine.assign(4) == [Offer("b", "1001")]


def test_a_state_saved_by_the_version_before_phone_status_is_read() -> None:
    """Redis holds what the last version wrote; an upgrade must not lose the agents' states."""
    saved = centre("1001").to_json()
    saved["agents"]["1001"].pop("phone")
    saved["agents"]["1001"]["phone_free"] = False
    engine = Engine.from_json(json.loads(json.dumps(saved)))
    agent = engine.agents["1001"]
    assert (agent.state, agent.break_reason) == (AgentState.BREAK, "小休")
    assert agent.phone == PhoneStatus.FREE, "read again from Asterisk at reconcile"


def test_an_agent_who_misses_three_calls_in_a_row_is_put_on_break_and_the_supervisor_told() -> None:
    engine = centre("1001", missed_before_break=3)
    engine.ready("1001", 0)
    arrive(engine, "a", 0)
    for attempt in range(3):
        assert engine.assign(attempt * 20) == [Offer("a", "1001")]
        engine.not_answered("a", "1001", attempt * 20 + 20)
    agent = engine.agents["1001"]
    assert (agent.state, agent.break_reason) == (AgentState.BREAK, MISSED_CALLS_BREAK)
    assert [n.kind for n in engine.notices] == ["agent.auto_break"]
    assert engine.assign(100) == []


def test_a_kept_number_goes_to_its_dedicated_seat_then_overflows_after_the_wait() -> None:
    engine = centre("2001", "1001", skills={"2001": {"12315": 5}, "1001": {"general": 5}})
    engine.ready("1001", 0)
    engine.ready("2001", 0)
    arrive(engine, "market", 1, skill="12315", overflow_skill="general", overflow_after=30)
    assert engine.assign(1) == [Offer("market", "2001")]
    engine.answered("market", "2001", 2)
    arrive(engine, "market2", 5, skill="12315", overflow_skill="general", overflow_after=30)
    assert engine.assign(20) == [], "no 12315 seat free, and the general agents wait 30 seconds first"
    assert engine.assign(35) == [Offer("market2", "1001")]


def test_with_nobody_signed_in_for_its_skill_a_call_overflows_at_once() -> None:
    engine = centre("2001", "1001", skills={"2001": {"dialect": 5}, "1001": {"general": 5}})
    engine.ready("1001", 0)
    engine.logout("2001", 0)
    arrive(engine, "dialect", 1, skill="dialect", overflow_skill="general", overflow_after=300)
    assert engine.assign(1) == [Offer("dialect", "1001")], "no dialect seat is signed in: no point waiting"
    engine.answered("dialect", "1001", 2)
    engine.call_ended("1001", 3)
    engine.login("2001", 4)  # on break, but signed in: the next dialect caller waits for them
    arrive(engine, "dialect2", 5, skill="dialect", overflow_skill="general", overflow_after=300)
    assert engine.assign(100) == []
    engine.ready("2001", 101)
    assert engine.assign(101) == [Offer("dialect2", "2001")]


def test_skill_levels_and_the_strategies() -> None:
    skills = {"1001": {"general": 2}, "1002": {"general": 8}, "1003": {"general": 8}}
    engine = centre("1001", "1002", "1003", skills=skills, strategy=Strategy.FEWEST_CALLS)
    for account in ("1001", "1002", "1003"):
        engine.ready(account, 0)
    engine.agents["1002"].calls = 5
    arrive(engine, "hard", 1, min_level=6)
    assert engine.assign(1) == [Offer("hard", "1003")]
    least_talk = centre("1001", "1002", strategy=Strategy.LEAST_TALK)
    least_talk.agents["1001"].talk_seconds = 600
    for account in ("1001", "1002"):
        least_talk.ready(account, 0)
    arrive(least_talk, "x", 1)
    assert least_talk.assign(1) == [Offer("x", "1002")]
    rr = centre("1001", "1002", "1003", strategy=Strategy.ROUND_ROBIN)
    chosen = []
    for i in range(4):
        for account in ("1001", "1002", "1003"):
            if rr.agents[account].state != AgentState.READY:
                rr.ready(account, i)
        arrive(rr, f"r{i}", i)
        [offer] = rr.assign(i)
        chosen.append(offer.account)
        rr.not_answered(offer.call_id, offer.account, i)
        rr.call_left(offer.call_id, i)
    assert chosen == ["1001", "1002", "1003", "1001"]


def test_agent_commands_refuse_what_makes_no_sense() -> None:
    engine = centre("1001")
    engine.add_agent("1009", {"general": 1})
    for call, error_id in [
        (lambda: engine.ready("1009", 0), "agent-logged-out"),
        (lambda: engine.pause("1001", "打游戏", 0), "bad-break-reason"),
        (lambda: engine.ready("nobody", 0), "unknown-agent"),
        (lambda: engine.add_agent("1010", {"general": 12}), "bad-skill-level"),
    ]:
        with pytest.raises(AcdError) as caught:
            call()
        assert caught.value.error_id == error_id
    engine.ready("1001", 0)
    arrive(engine, "a", 0)
    engine.assign(0)
    with pytest.raises(AcdError, match="正在通话"):
        engine.pause("1001", "用餐", 1)


def test_state_survives_a_restart_through_json_with_pause_reasons_and_places() -> None:
    engine = centre("1001", "1002")
    engine.pause("1001", "用餐", 5)
    engine.ready("1002", 6)
    arrive(engine, "a", 7, priority=Priority.REPEAT_CALLER)
    arrive(engine, "b", 8)
    engine.leave_callback("b", "13800138000", 8)
    engine.wrap_up("1002", 9)
    restored = Engine.from_json(json.loads(json.dumps(engine.to_json())), engine.settings)
    assert restored.to_json() == engine.to_json()
    assert restored.agents["1001"].break_reason == "用餐"
    restored.ready("1002", 10)
    assert restored.assign(10) == [Offer("a", "1002")]
    restored.ready("1001", 11)
    assert restored.assign(11) == [Offer("b", "1001", "13800138000")]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_random_traffic_never_double_offers_and_loses_no_call(data: st.DataObject) -> None:
    accounts = [f"10{i:02d}" for i in range(data.draw(st.integers(1, 5)))]
    engine = centre(*accounts)
    now, arrived, gone = 0.0, 0, set()
    for _ in range(data.draw(st.integers(1, 60))):
        now += data.draw(st.floats(0, 30))
        action = data.draw(st.sampled_from(["arrive", "ready", "pause", "answer", "miss", "end", "leave"]))
        account = data.draw(st.sampled_from(accounts))
        agent = engine.agents[account]
        try:
            if action == "arrive":
                arrive(engine, f"c{arrived}", now, priority=data.draw(st.sampled_from(list(Priority))))
                arrived += 1
            elif action == "ready":
                engine.ready(account, now)
            elif action == "pause":
                engine.pause(account, "小休", now)
            elif action in ("answer", "miss") and agent.state == AgentState.RINGING:
                if action == "answer":
                    engine.answered(agent.call_id, account, now)
                    gone.add(agent.call_id)
                else:
                    engine.not_answered(agent.call_id, account, now)
            elif action == "end":
                engine.call_ended(account, now)
            elif action == "leave" and engine.calls:
                call_id = data.draw(st.sampled_from(sorted(engine.calls)))
                engine.call_left(call_id, now)
                gone.add(call_id)
        except AcdError:
            pass
        engine.assign(now)
        ringing = [a.call_id for a in engine.agents.values() if a.state == AgentState.RINGING]
        offered = [c.call_id for c in engine.calls.values() if c.offered_to]
        assert sorted(ringing) == sorted(offered) and len(set(ringing)) == len(ringing)
        for call in engine.calls.values():
            if call.offered_to:
                assert engine.agents[call.offered_to].call_id == call.call_id
        assert len(engine.calls) + len(gone) == arrived, "every call is waiting, answered or gone"


def test_a_dedicated_seat_is_kept_for_its_number_while_a_general_agent_is_free() -> None:
    skills = {"2001": {"12315": 7, "general": 3}, "1001": {"general": 5}}
    engine = centre("2001", "1001", skills=skills)
    engine.ready("2001", 0)  # idle longest, but 12315 is what this seat is for
    engine.ready("1001", 5)
    arrive(engine, "general", 6)
    assert engine.assign(6) == [Offer("general", "1001")]
    arrive(engine, "another", 7)
    assert engine.assign(7) == [Offer("another", "2001")], "with nobody else free, the seat still helps"


def test_position_and_expected_wait_count_the_calls_ahead_for_the_same_skill() -> None:
    engine = centre("1001", "1002", skills={"1001": {"general": 5}, "1002": {"general": 5}})
    arrive(engine, "a", 1)
    arrive(engine, "market", 2, skill="12315")
    arrive(engine, "b", 3)
    arrive(engine, "elderly", 4, priority=Priority.ELDERLY)
    assert [engine.position(c) for c in ("elderly", "a", "b", "market")] == [0, 1, 2, 0]
    assert engine.expected_wait("b", 5) == 3 * 180 / 2, "nobody has talked yet: the default handle time"
    engine.ready("1001", 5)
    engine.assign(5)
    engine.answered("elderly", "1001", 6)
    engine.call_ended("1001", 66)
    assert engine.expected_wait("b", 67) == 2 * 60 / 2


def test_a_callback_left_while_the_phone_rings_withdraws_the_offer() -> None:
    engine = centre("1001")
    engine.ready("1001", 0)
    arrive(engine, "a", 1)
    assert engine.assign(1) == [Offer("a", "1001")]
    engine.leave_callback("a", "13800138000", 2)
    assert engine.agents["1001"].state == AgentState.READY
    assert engine.assign(3) == [Offer("a", "1001", "13800138000")], "the place is kept, now as a callback"
    with pytest.raises(AcdError) as caught:
        engine.leave_callback("a", "", 4)
    assert caught.value.error_id == "no-callback-number"


def test_after_a_restart_waiting_callers_are_dropped_callbacks_kept_and_rings_withdrawn() -> None:
    engine = centre("1001", "1002")
    engine.ready("1001", 0)
    engine.ready("1002", 0)
    arrive(engine, "held", 1)
    arrive(engine, "callback", 2, callback_number="13800138000")
    arrive(engine, "talking", 3)
    engine.assign(3)
    engine.answered("held", "1001", 4)
    engine.recover(10)
    assert list(engine.calls) == ["callback"] and engine.calls["callback"].offered_to == ""
    assert engine.agents["1002"].state == AgentState.READY, "its ring ended with the old controller"
    assert engine.agents["1001"].state == AgentState.TALKING, "a talking agent stays talking"
    engine.phones_on_calls([], 12)
    assert engine.agents["1001"].state == AgentState.WRAP_UP, "Asterisk shows no call on that phone"


def test_an_agent_who_leaves_is_removed_but_never_in_the_middle_of_a_call() -> None:
    engine = centre("1001", "1002")
    engine.ready("1001", 0)
    arrive(engine, "a", 1)
    assert engine.assign(1) == [Offer("a", "1001")]
    engine.take_changes()
    with pytest.raises(AcdError) as caught:
        engine.remove_agent("1001")
    assert caught.value.error_id == "agent-on-call"
    engine.remove_agent("1002")
    assert "1002" not in engine.agents and engine.take_changes().agents == {"1002": None}
    with pytest.raises(AcdError):
        engine.login("1002", 2)


def test_a_call_transferred_to_one_agent_waits_for_that_agent_alone_and_keeps_its_place() -> None:
    engine = centre("1001", "1002", skills={"1001": {"general": 5}, "1002": {"12315": 5}})
    arrive(engine, "earlier", 1)
    arrive(engine, "handed", 0.5, for_agent="1002")
    engine.ready("1001", 2)
    assert engine.assign(3) == [Offer("earlier", "1001")]  # 1001 is not the one asked for
    engine.ready("1002", 4)
    assert engine.assign(5) == [Offer("handed", "1002")]  # whatever 1002's skills
    restored = Engine.from_json(json.loads(json.dumps(engine.to_json())))
    assert restored.calls["handed"].for_agent == "1002"
