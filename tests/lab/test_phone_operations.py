"""The in-call operations pressed on the agent's own phone (features.conf): ``*8`` and a number consults,
``*1`` goes back to the caller, ``*2`` hands over, ``*3`` joins all three; ``*8`` and ``00`` with a
colleague's account or a skill hands the caller to the ACD. The controller was not asked:
it follows what Asterisk did, and the floor, the call's legs, the recordings and the ticket show it as
they show an operation asked of the API.

The lab's PSTN plays the agent's phone: the keys are sent from its channel as RFC 4733 events, as a
desk phone sends them.
"""

from __future__ import annotations

import asyncio

from hotline.lab.caller import place_call
from hotline.workspace.screen_pop import ticket_draft
from tests.integration.helpers import COMPLAINT
from tests.lab.conftest import api, finished_wav
from tests.lab.helpers import AmiEvents, agent_is, newest, of_call, put_the_phone_down, recordings
from tests.lab.tone_calls import (
    AGENT_HZ,
    CALLER_HZ,
    DEPARTMENT_HZ,
    PHASE,
    all_quiet,
    everyone_speaks,
    last_heard,
    of_operation,
    police_heard_both,
    roles,
    roles_once,
    speaking,
    tone_caller,
    voices,
)


async def press(agents, account: str, keys: str) -> None:
    """The agent presses ``keys`` on their phone, with a person's gap between them."""
    async with agents.ami() as pstn:
        channels = (await pstn.action("CoreShowChannels", idempotent=True)).events
        (phone,) = [c for c in channels if c.get("Exten") == account]
        for key in keys:
            await pstn.action("PlayDTMF", {"Channel": phone["Channel"], "Digit": key, "Duration": "150"})
            await asyncio.sleep(0.4)


async def consult_from_the_phone(agents, floor, number: str) -> dict:
    """``*8`` and the number, keyed on over Asterisk's prompt ("transfer": a key ends it and is the number's
    first); returns the floor's word that it answered."""
    await press(agents, "1001", f"*8{number}")
    ringing = await floor.wait_for(
        lambda e: of_operation("call.transfer", "ringing")(e) and e["to"] == number, 20
    )
    assert (ringing["by"], ringing["mode"], ringing["agent"]) == ("1001", "attended", "1001"), ringing
    return await floor.wait_for(
        lambda e: of_operation("call.transfer", "answered")(e) and e["to"] == number, 30
    )


async def test_from_the_phone_the_agent_asks_12315_goes_back_with_star_1_then_hands_over_to_12333(
    lab, agents, lab_env
):
    base = agents.base_url
    agent_token, plan, since = await everyone_speaks(agents, lab_env, "12333")
    try:
        async with agents.floor() as floor, agents.ami() as pstn:
            lab_pstn = AmiEvents(pstn)
            await place_call(lab, plan)
            bridged = await floor.wait_for(of_call(plan.caller_number, "call.bridged"), 90)
            call_id = bridged["call_id"]
            await lab_pstn.wait_for(speaking("1001"), 15)

            await consult_from_the_phone(agents, floor, "12315")
            assert await roles(base, agent_token, call_id) == ["agent", "caller", "department"]
            await press(agents, "1001", "*1")
            called_off = await floor.wait_for(of_operation("call.transfer", "cancelled"), 15)
            assert (called_off["to"], called_off["cancelled_by"]) == ("12315", "1001"), called_off
            assert await roles_once(base, agent_token, call_id, "agent", "caller") == ["agent", "caller"]

            await consult_from_the_phone(agents, floor, "12333")
            await lab_pstn.wait_for(speaking("12333"), 15)
            await asyncio.sleep(PHASE)  # the agent tells 12333 about the caller, who waits on hold
            await press(agents, "1001", "*2")
            handed = await floor.wait_for(of_operation("call.transfer", "handed_over"), 15)
            assert (handed["to"], handed["linkage"]) == ("12333", ""), handed
            await asyncio.sleep(PHASE)
            assert await roles(base, agent_token, call_id) == ["caller", "department"]
    finally:
        await all_quiet(agents, "12333")

    department_ear = newest(recordings(lab), "line-12333-from-12345-*.wav", since)
    consulted = await finished_wav(department_ear, lambda p: max(voices(p, AGENT_HZ)))
    (handed_over,) = await last_heard(department_ear)
    print(f"from the phone: 12333 heard the agent at {consulted:.2f}, then {handed_over}")
    assert consulted > 0.1 and handed_over[CALLER_HZ] > 0.1 and handed_over[AGENT_HZ] < 0.02

    # The call's record holds both consults, and the department's side was recorded on its own track.
    async with asyncio.timeout(30):
        while True:
            _, records = await api("GET", f"{base}/api/reports/records?limit=50", agents.token)
            record = next(r for r in records if r["call_id"] == call_id)
            _, listed = await api("GET", f"{base}/api/recordings?call={call_id}", agents.token)
            if record["ended_at"] and "department_track" in {r["kind"] for r in listed}:
                break
            await asyncio.sleep(0.5)
    consults = [
        (leg["kind"], leg["target"], leg["result"]) for leg in record["legs"] if leg["kind"] != "offer"
    ]
    assert consults == [("transfer", "12315", "cancelled"), ("transfer", "12333", "handed_over")], record


async def test_from_the_phone_the_agent_makes_a_three_way_call_with_110_which_sees_the_callers_number(
    lab, agents, lab_env
):
    base = agents.base_url
    agent_token, plan, since = await everyone_speaks(agents, lab_env, "110")
    try:
        async with agents.floor() as floor, agents.ami() as pstn:
            lab_pstn = AmiEvents(pstn)
            placed = await place_call(lab, plan)
            bridged = await floor.wait_for(of_call(plan.caller_number, "call.bridged"), 90)
            call_id = bridged["call_id"]
            await lab_pstn.wait_for(speaking("1001"), 15)

            answered = await consult_from_the_phone(agents, floor, "110")
            assert answered["linkage"] == "110", answered
            await press(agents, "1001", "*3")
            joined = await floor.wait_for(of_operation("call.conference", "joined"), 15)
            assert (joined["to"], joined["linkage"], joined["by"]) == ("110", "110", "1001"), joined
            assert await roles(base, agent_token, call_id) == ["agent", "caller", "department"]
            await lab_pstn.wait_for(speaking("110"), 15)
            await asyncio.sleep(PHASE)
            await put_the_phone_down(agents, "1001")  # caller and 110 go on
            await floor.wait_for(of_operation("call.conference", "agent_left"), 15)
            assert await roles_once(base, agent_token, call_id, "caller", "department") == [
                "caller",
                "department",
            ]
    finally:
        await all_quiet(agents, "110")
    await police_heard_both(lab, plan.caller_number, since)  # the number no one set: the dialplan chose it
    caller_ear = recordings(lab) / f"caller-{placed.caller_channel}.wav"
    heard_police = await finished_wav(caller_ear, lambda p: max(voices(p, DEPARTMENT_HZ)))
    assert heard_police > 0.05, heard_police

    draft = ticket_draft(call_id, plan.caller_number, "", "12345")
    said = {k: COMPLAINT[k] for k in ("type", "description", "category", "region")}
    status, ticket = await api("POST", f"{base}/api/tickets", agent_token, {**draft, **said})
    assert status == 201, ticket
    status, shown = await api("GET", f"{base}/api/tickets/{ticket['number']}", agent_token)
    linkage = shown["call_linkage"]
    assert (linkage["service"], linkage["mode"], linkage["agent"]) == ("110", "three-way", "1001"), linkage


async def test_from_the_phone_a_colleague_then_a_skill_gets_the_caller_through_the_acd(lab, agents):
    await agents.only_ready("1001", "1002", "1003")
    try:
        async with agents.floor() as floor:
            await place_call(lab, plan := tone_caller(lab, agents.settings))
            bridged = await floor.wait_for(of_call(plan.caller_number, "call.bridged"), 90)
            call_id = bridged["call_id"]
            assert bridged["agent"] == "1001", bridged
            await press(agents, "1001", "*8001002")  # 00 and the colleague's account, over the prompt
            handed = await floor.wait_for(
                lambda e: of_operation("call.transfer", "queued")(e) and e["call_id"] == call_id, 20
            )
            assert (handed["to"], handed["by"], handed["agent"]) == ("agent:1002", "1001", "1001"), handed
            again = await floor.wait_for(
                lambda e: e.get("type") == "acd.queued" and e.get("transferred_by") == "1001", 15
            )
            assert again["agent"] == "1002"
            await floor.wait_for(agent_is("1002", "talking"), 30)

            await press(agents, "1002", "*80012315")  # the skill 12315, which 1003 has
            await floor.wait_for(agent_is("1003", "talking"), 40)
            offered = [
                e["agent"] for e in floor.events if e.get("type") == "acd.offered" and e["call_id"] == call_id
            ]
            assert offered == ["1001", "1002", "1003"]
            handovers = [
                (e["to"], e["state"], e["by"])
                for e in floor.events
                if e.get("type") == "call.transfer" and e["call_id"] == call_id
            ]
            assert handovers == [("agent:1002", "queued", "1001"), ("skill:12315", "queued", "1002")], (
                handovers
            )
    finally:
        await agents.hang_up_everything()
