"""Restarts lose nothing: a part of the system killed or stopped while a call is bridged."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import aiohttp
import pytest

from hotline.lab.caller import place_call
from tests.lab.asterisk_state import AsteriskState
from tests.lab.conftest import EventStream, api, floor_url
from tests.lab.helpers import caller, of_call, put_the_phone_down

#: A crash, and an operator's (or systemd's) stop.
SIGNALS = pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])


def append_only_file(settings) -> bytes:
    """What Redis has written to its append-only file: the kernel keeps it, however Redis ends."""
    return b"".join(p.read_bytes() for p in (settings.home / "redis").glob("appendonlydir/*.incr.aof"))


async def health(base_url: str) -> dict[str, bool]:
    """The controller's own word on what it reaches (AMI, Redis, the database)."""
    async with aiohttp.ClientSession() as http, http.get(f"{base_url}/healthz") as response:
        return (await response.json())["checks"]


@SIGNALS
async def test_redis_stopped_under_a_call_keeps_agent_states_and_the_event_history(
    lab, controller, settings, agents, stop_signal
):
    """Redis once ran without persistence: after a restart an agent on a 用餐 break came back signed out and
    the event history (``?since=``) was gone."""
    await agents.only_ready("1002")  # its phone talks until the agent puts it down
    await agents.command("1001", "login")
    await agents.command("1001", "break", reason="用餐")
    plan = caller(hold=40)
    async with agents.floor() as stream:
        await place_call(lab, plan)
        bridged = await stream.wait_for(of_call(plan.caller_number, "call.bridged"), 60)
    async with asyncio.timeout(10):  # the call's events so far are in Redis's file
        while bridged["call_id"].encode() not in await asyncio.to_thread(append_only_file, settings):
            await asyncio.sleep(0.1)
    os.kill(lab.redis.pid(), stop_signal)
    async with asyncio.timeout(10):
        while lab.redis.pid() is not None:
            await asyncio.sleep(0.1)
    async with asyncio.timeout(10):  # the call goes on with the controller finding Redis away
        while (await health(controller.base_url))["redis"]:
            await asyncio.sleep(0.1)
    await asyncio.to_thread(lab.up)  # Redis again, from its own files
    back = time.monotonic()
    await put_the_phone_down(agents, "1002")  # the call ends now Redis is back
    async with EventStream(floor_url(controller.base_url, agents.token) + "&since=0") as history:
        # Published while Redis was away or after: the outbox kept it and wrote it when Redis came back.
        replayed = time.monotonic() - back
        hangup = await history.wait_for(of_call(plan.caller_number, "call.hangup"), 40)
        before = [e for e in history.events if e.get("call_id") == bridged["call_id"]]
    print(f"the event history replayed {replayed:.2f} s after Redis was back")
    assert [e["type"] for e in before][:2] == ["call.ringing", "call.answered"], "history before the kill"
    assert hangup["call_id"] == bridged["call_id"]

    await asyncio.to_thread(controller.stop)
    await asyncio.to_thread(controller.start)  # the next controller reads the ACD's state from Redis
    states = await agents.states()
    assert (states["1001"]["state"], states["1001"]["break_reason"]) == ("break", "用餐")


@SIGNALS
async def test_the_system_asterisk_stopped_under_a_call_says_so_and_answers_again_10_s_later(
    lab, controller, settings, agents, stop_signal
):
    """A killed Asterisk takes its calls with it: the controller finds them gone at the next reconcile.
    A stopped one hangs them up itself first, and the end carries Asterisk's own cause. Either way the
    phones' contacts survive, so a ready agent takes the next call at once."""
    await agents.phone("1001", talk_seconds=60)
    await agents.only_ready("1001")
    plan = caller(hold=60)
    async with agents.floor() as stream:
        await place_call(lab, plan)
        await stream.wait_for(of_call(plan.caller_number, "call.bridged"), 60)
        os.kill(lab.sut.process.pid(), stop_signal)
        async with asyncio.timeout(10):
            while lab.sut.process.pid() is not None:
                await asyncio.sleep(0.1)
        await asyncio.to_thread(lab.up)
        back = time.monotonic()
        ended = await stream.wait_for(of_call(plan.caller_number, "call.hangup"), 30)
        published = time.monotonic() - back
        await stream.wait_for(lambda e: e.get("type") == "controller.reconciled", 30)
    assert ended["cause"] == ("Asterisk restarted" if stop_signal == signal.SIGKILL else "Normal Clearing")
    print(f"the call's end was published {published:+.1f} s from Asterisk being back ({ended['cause']})")
    assert (await agents.states())["1001"]["state"] != "talking"

    await agents.phone("1001", talk_seconds=3)
    await agents.only_ready("1001")
    # What the test promises a centre: 10 s after Asterisk is back, a caller is answered (not as soon as
    # the controller says it is healthy, which under load comes before the phone can be offered a call).
    await asyncio.sleep(max(0.0, 10 - (time.monotonic() - back)))
    after = caller(hold=20)
    async with agents.floor() as stream:
        placed = time.monotonic() - back
        await place_call(lab, after)
        bridged = await stream.wait_for(of_call(after.caller_number, "call.bridged"), 40)
    print(f"a call placed {placed:.1f} s after Asterisk was back reached {bridged['agent']}")
    assert bridged["agent"] == "1001"


async def queue_status(asterisk: AsteriskState) -> tuple[dict[str, str], dict[str, int]]:
    """The fallback queue as app_queue sees it: each member's pause, each waiting caller's position."""
    queue = await asterisk.queue("hotline-all")
    members = {e["Location"]: e["Paused"] for e in queue if e.get("Event") == "QueueMember"}
    callers = {e["CallerIDNum"]: int(e["Position"]) for e in queue if e.get("Event") == "QueueEntry"}
    return members, callers


async def test_a_stopped_controller_hands_callers_to_the_fallback_in_order_and_it_rings_no_one_on_break(
    lab, controller, settings, agents
):
    """The fallback once answered the longest waiter last, and rang agents on their break."""
    await agents.phone("1002", talk_seconds=60)  # still talking when the next controller looks
    await agents.only_ready("1002")
    await agents.command("1001", "login")  # signed in on a break
    fallback = agents.asterisk(system=True)  # the fallback queue, as app_queue sees it
    async with agents.ami(system=True) as system:
        async with asyncio.timeout(10):
            while (await queue_status(fallback))[0].get("PJSIP/1001") != "1":
                await asyncio.sleep(0.2)
        assert (await queue_status(fallback))[0]["PJSIP/1002"] == "0", "the ready agent is not paused"

        await agents.command("1002", "break", reason="小休")  # nobody answers: both callers wait
        first, second = caller(hold=90), caller(hold=90)
        async with agents.floor() as stream:
            # The fallback ranks callers by the whole second they arrived (ivr/flows.py fallback_priority):
            # the first is queued after its greeting's key, over a second after it arrived, so the second
            # arrives in a later second.
            for plan in (first, second):
                await place_call(lab, plan)
                await stream.wait_for(of_call(plan.caller_number, "acd.queued"), 60)
        called: list[str] = []
        system.on_event(
            lambda e: called.append(str(e["Interface"])) if e.get("Event") == "AgentCalled" else None
        )
        await asyncio.to_thread(controller.stop)
        async with asyncio.timeout(40):  # each hears the fallback's prompt, then joins the queue
            while len((await queue_status(fallback))[1]) < 2:
                await asyncio.sleep(0.5)
        members, waiting = await queue_status(fallback)
        assert waiting == {first.caller_number: 1, second.caller_number: 2}, "the longest waiter is first"
        assert members == {"PJSIP/1001": "1", "PJSIP/1002": "1", **members}
        # A supervisor puts 1002 back in Asterisk's own queue while the controller is down.
        await system.action(
            "QueuePause", {"Queue": "hotline-all", "Interface": "PJSIP/1002", "Paused": "false"}
        )
        async with asyncio.timeout(30):
            while len((await queue_status(fallback))[1]) > 1:
                await asyncio.sleep(0.5)
        assert (await queue_status(fallback))[1] == {second.caller_number: 1}, "the first caller was answered"
    assert called and set(called) == {"PJSIP/1002"}, "nobody on a break was rung"
    # The next controller tells the floor about the call the fallback answered while it was away.
    await asyncio.to_thread(controller.start)
    async with EventStream(floor_url(controller.base_url, agents.token) + "&since=0") as history:
        found = await history.wait_for(of_call(first.caller_number, "call.bridged"), 30)
    assert found["agent"] == "1002"
    # ...and its call record, opened by the controller that queued it, says who answered.
    status, records = await api("GET", f"{controller.base_url}/api/reports/records", agents.token)
    assert status == 200, records
    record = next(r for r in records if r["caller_number"] == first.caller_number)
    assert (record["outcome"], record["agent"]) == ("answered", "1002") and record["queued_at"], record
    await agents.hang_up_everything()


@pytest.mark.parametrize("stop", ["stop", "kill"])
async def test_a_controller_stopped_mid_conversation_leaves_the_agent_talking_as_their_phone_is(
    lab, controller, settings, agents, stop
):
    """A SIGTERM once put talking agents into wrap-up while their calls went on."""
    await agents.only_ready("1001")  # its phone talks until the agent puts it down
    plan = caller(hold=60)
    async with agents.floor() as stream:
        await place_call(lab, plan)
        await stream.wait_for(of_call(plan.caller_number, "call.bridged"), 60)
    await asyncio.to_thread(getattr(controller, stop))
    await asyncio.to_thread(controller.start)
    states = await agents.states()
    assert states["1001"]["state"] == "talking", "the conversation went on, and the ACD knows it"
    async with agents.floor() as stream:  # the agent hangs up: then, and only then, wrap-up
        await put_the_phone_down(agents, "1001")
        changed = await stream.wait_for(
            lambda e: e.get("type") == "agent.state" and e.get("agent") == "1001", 40
        )
    assert changed["state"] == "wrap_up"


async def test_an_agent_whose_phone_lost_its_contact_is_shown_why_and_offered_nothing(
    lab, controller, settings, agents
):
    """After the system Asterisk restarted, agents whose phones had not registered again were shown ready
    and able, with no word of why no call reached them."""
    await agents.phone("1001", talk_seconds=5)
    await agents.only_ready("1001")
    try:
        async with agents.floor() as stream:
            await asyncio.to_thread(lab.pstn.cli, "pjsip send unregister phone1001")
            await stream.wait_for(
                lambda e: (
                    e.get("type") == "agent.state"
                    and e.get("agent") == "1001"
                    and e.get("phone") == "unregistered"
                ),
                20,
            )
            seen = (await agents.states())["1001"]
            assert (seen["state"], seen["phone_free"], seen["phone"]) == ("ready", False, "unregistered")
            assert "未注册" in seen["phone_note"], seen
            plan = caller(hold=60)
            await place_call(lab, plan)
            queued = await stream.wait_for(of_call(plan.caller_number, "acd.queued"), 60)
            # The ACD chose as the caller joined: it waits, offered to no one.
            status, waiting = await api("GET", f"{controller.base_url}/api/acd/queue", agents.token)
            assert status == 200, waiting
            [entry] = [c for c in waiting if c["call_id"] == queued["call_id"]]
            assert not entry["offered_to"], entry
            offered = [e for e in stream.events if e.get("type") in ("acd.assigned", "acd.offered")]
            assert not offered, "nothing rang a phone that cannot ring"
            await asyncio.to_thread(lab.pstn.cli, "pjsip send register phone1001")
            bridged = await stream.wait_for(of_call(plan.caller_number, "call.bridged"), 40)
        assert bridged["agent"] == "1001", "registered again, the phone takes the waiting caller"
        assert (await agents.states())["1001"]["phone_note"] == "话机占用中"
    finally:  # the next test finds the phone registered (a second "send register" would unregister it first)
        if not await agents.asterisk(system=True).registered("1001"):
            await asyncio.to_thread(lab.pstn.cli, "pjsip send register phone1001")
        await asyncio.to_thread(lab.wait_for_phones)
