"""Transfers, three-way calls and the 110 linkage on real phones, with real SIP and RTP.

Everyone speaks as a tone: the caller at 1000 Hz, the agent's phone at 600 Hz,
the department's line at 1400 Hz; the lab's PSTN records what each of them
hears. Who can hear whom, before and after the agent leaves, is read from
those recordings; what Asterisk did, from the floor's events.
"""

from __future__ import annotations

import asyncio
import time

from hotline.lab.caller import place_call
from hotline.lab.controller import api_token
from hotline.workspace.screen_pop import ticket_draft
from tests.integration.helpers import COMPLAINT
from tests.lab.conftest import api, finished_wav, registered_recording, tone_share
from tests.lab.helpers import AmiEvents, agent_is, newest, of_call, put_the_phone_down, recorded, recordings
from tests.lab.tone_calls import (
    AGENT_HZ,
    CALLER_HZ,
    DEPARTMENT_HZ,
    PHASE,
    all_quiet,
    department_speaks,
    everyone_speaks,
    last_heard,
    of_operation,
    police_heard_both,
    roles_once,
    shares,
    speaking,
    tone_caller,
    voices,
)


async def test_a_three_way_call_with_12315_goes_on_after_the_agent_leaves(
    lab, agents, lab_env, supervisor_token, tmp_path
):
    base = agents.base_url
    agent_token, plan, since = await everyone_speaks(agents, lab_env, "12315")
    try:
        async with agents.floor() as floor, agents.ami() as pstn:
            lab_pstn = AmiEvents(pstn)
            placed = await place_call(lab, plan)
            bridged = await floor.wait_for(of_call(plan.caller_number, "call.bridged"), 90)
            call_id = bridged["call_id"]

            status, view = await api(
                "POST", f"{base}/api/calls/{call_id}/conference", agent_token, {"to": "12315"}
            )
            assert status == 200 and view["consult"]["to"] == "12315", view
            await floor.wait_for(of_operation("call.conference", "answered"), 30)
            await floor.wait_for(of_operation("call.conference", "joined"), 15)
            status, view = await api("GET", f"{base}/api/calls/{call_id}", agent_token)
            assert sorted(leg["role"] for leg in view["legs"]) == ["agent", "caller", "department"], view
            # Asterisk's own word, read through pyst2: one bridge holds the three parties.
            bridges = await agents.asterisk(system=True).listing("BridgeList")
            assert any(b.get("BridgeNumChannels") == "3" for b in bridges), bridges
            # The three talk once the agent's phone and 12315 have said their greetings. (The caller's track
            # is measured whole: a longer call would blur its tone, which is a hair off 1000 Hz.)
            await lab_pstn.wait_for(speaking("1001"), 15)
            await lab_pstn.wait_for(speaking("12315"), 15)
            await asyncio.sleep(PHASE)

            status, _ = await api("POST", f"{base}/api/calls/{call_id}/conference/leave", agent_token)
            assert status == 200
            await floor.wait_for(of_operation("call.conference", "agent_left"), 15)
            await asyncio.sleep(PHASE)
            status, view = await api("GET", f"{base}/api/calls/{call_id}", agents.token)
            assert sorted(leg["role"] for leg in view["legs"]) == ["caller", "department"], view
    finally:
        await all_quiet(agents, "12315")

    # The call's record: the agent's answer and the department's leg, the three-way call counted, and the
    # conversation's recording (it covers the three-way call) named once the register has it.
    async with asyncio.timeout(30):
        while True:
            status, records = await api("GET", f"{base}/api/reports/records?limit=50", agents.token)
            record = next(r for r in records if r["call_id"] == call_id)
            if record["ended_at"] and record["recording_ids"]:
                break
            await asyncio.sleep(0.5)
    legs = [(leg["kind"], leg["agent"], leg["target"], leg["result"]) for leg in record["legs"]]
    assert legs == [("offer", "1001", "", "answered"), ("conference", "1001", "12315", "agent_left")], legs
    # A three-way call the agent leaves is a conference only, never also a transfer (issue 28).
    assert (record["conferences"], record["transfers"], record["outcome"]) == (1, 0, "answered")
    assert record["disposition"] == "three_way"

    # The system's own recording, each direction apart (双轨): the caller's track holds the caller alone;
    # the other, what the caller heard: the agent and 12315 at once during the three-way call.
    _, caller_file = await registered_recording(base, supervisor_token, call_id, "caller_track", tmp_path)
    _, heard = await registered_recording(base, supervisor_token, call_id, "agent_track", tmp_path)
    caller_track = shares(caller_file)
    heard_together = max(voices(heard, AGENT_HZ, DEPARTMENT_HZ))
    heard_caller = max(voices(heard, CALLER_HZ))
    print(f"system tracks: caller {caller_track}; heard agent and 12315 at once {heard_together:.2f}")
    assert caller_track[CALLER_HZ] > 0.2 and max(caller_track[AGENT_HZ], caller_track[DEPARTMENT_HZ]) < 0.02
    assert heard_together > 0.1 and heard_caller < 0.02

    # A recording skips moments without audio, so it is read by its content, not by clock times.
    folder = recordings(lab)
    department_ear = newest(folder, "line-12315-from-12345-*.wav", since)
    caller_ear = folder / f"caller-{placed.caller_channel}.wav"
    together = await finished_wav(department_ear, lambda p: max(voices(p, CALLER_HZ, AGENT_HZ)))
    after_department, after_caller = await last_heard(department_ear, caller_ear)
    print(
        f"three-way at 12315: {together:.2f}; after the agent left, 12315 hears {after_department}, "
        f"the caller hears {after_caller}"
    )
    assert together > 0.1, "12315 heard the caller and the agent at once"
    assert after_department[CALLER_HZ] > 0.1 and after_department[AGENT_HZ] < 0.02
    assert after_caller[DEPARTMENT_HZ] > 0.1 and after_caller[AGENT_HZ] < 0.02
    # After the agent left, the recording goes on: the caller on their own track, 12315 on its leg's (what a
    # channel hears is sometimes missing from its recording then, what it says never: Asterisk).
    _, department_file = await registered_recording(
        base, supervisor_token, call_id, "department_track", tmp_path
    )
    said_after, department_after = await last_heard(caller_file, department_file)
    print(f"system tracks after the agent left: said {said_after}, at 12315's side {department_after}")
    assert said_after[CALLER_HZ] > 0.1 and said_after[AGENT_HZ] < 0.02
    assert department_after[DEPARTMENT_HZ] > 0.1 and department_after[AGENT_HZ] < 0.02
    async with asyncio.timeout(30):
        while True:
            _, listed = await api("GET", f"{base}/api/recordings?call={call_id}", agents.token)
            if "department_track" in {r["kind"] for r in listed}:
                break
            await asyncio.sleep(0.5)


async def test_one_key_110_reaches_110_showing_the_callers_number_and_frees_the_agent(lab, agents):
    base = agents.base_url
    await agents.only_ready("1001")
    plan = tone_caller(lab, agents.settings)
    since = time.time() - 1
    try:
        async with agents.floor() as floor:
            await place_call(lab, plan)
            bridged = await floor.wait_for(of_call(plan.caller_number, "call.bridged"), 90)
            call_id = bridged["call_id"]
            asked = time.monotonic()
            body = {"to": "110", "mode": "transfer"}
            status, view = await api("POST", f"{base}/api/calls/{call_id}/emergency", agents.token, body)
            assert status == 200 and view["consult"]["linkage"] == "110", view
            handed = await floor.wait_for(of_operation("call.transfer", "handed_over"), 30)
            print(f"one-key 110: handed over {time.monotonic() - asked:.2f} s after the request")
            assert handed["linkage"] == "110" and handed["by"] == "lab-supervisor"
            await floor.wait_for(agent_is("1001", "wrap_up"), 15)
            await asyncio.sleep(PHASE)
            status, view = await api("GET", f"{base}/api/calls/{call_id}", agents.token)
            assert status == 200 and sorted(leg["role"] for leg in view["legs"]) == ["caller", "department"]
    finally:
        await agents.hang_up_everything()
    # 110's phone showed the caller's own number, and heard the caller once the agent was gone.
    police_ear = newest(recordings(lab), f"line-110-from-{plan.caller_number}-*.wav", since)
    share = await finished_wav(police_ear, lambda p: tone_share(p, CALLER_HZ, last=PHASE - 2))
    assert share > 0.1, share


async def test_an_unclear_case_is_a_three_way_call_with_110_and_the_ticket_says_12345_keeps_it(
    lab, agents, lab_env
):
    """国办发〔2022〕12号: when it is unclear whose matter it is, caller, 12345 and 110 speak together; when
    they cannot agree, 12345 received it first and keeps it (首接负责), and the ticket says so."""
    base = agents.base_url
    agent_token, plan, since = await everyone_speaks(agents, lab_env, "110")
    try:
        async with agents.floor() as floor, agents.ami() as pstn:
            lab_pstn = AmiEvents(pstn)
            await place_call(lab, plan)
            bridged = await floor.wait_for(of_call(plan.caller_number, "call.bridged"), 90)
            call_id = bridged["call_id"]
            await lab_pstn.wait_for(speaking("1001"), 15)
            body = {"to": "110", "mode": "three-way"}
            status, view = await api("POST", f"{base}/api/calls/{call_id}/emergency", agent_token, body)
            assert status == 200 and (view["consult"]["linkage"], view["consult"]["purpose"]) == (
                "110",
                "three-way",
            ), view
            joined = await floor.wait_for(of_operation("call.conference", "joined"), 45)
            assert joined["linkage"] == "110" and joined["call_id"] == call_id
            status, view = await api("GET", f"{base}/api/calls/{call_id}", agent_token)
            assert sorted(leg["role"] for leg in view["legs"]) == ["agent", "caller", "department"], view
            await lab_pstn.wait_for(speaking("110"), 15)
            await asyncio.sleep(PHASE)
    finally:
        await all_quiet(agents, "110")
    await police_heard_both(lab, plan.caller_number, since)

    # The agent writes the ticket: the linkage is on it; they record that 12345 keeps the matter.
    draft = ticket_draft(call_id, plan.caller_number, "", "12345")
    said = {k: COMPLAINT[k] for k in ("type", "description", "category", "region")}
    status, ticket = await api("POST", f"{base}/api/tickets", agent_token, {**draft, **said})
    assert status == 201, ticket
    number = ticket["number"]
    status, shown = await api("GET", f"{base}/api/tickets/{number}", agent_token)
    linkage = shown["call_linkage"]
    assert (linkage["service"], linkage["mode"], linkage["agent"], linkage["outcome"]) == (
        "110",
        "three-way",
        "1001",
        "",
    ), linkage
    status, kept = await api(
        "POST", f"{base}/api/tickets/{number}/record_linkage", agent_token, {"outcome": "kept"}
    )
    assert status == 200 and kept["linkage"]["outcome"] == "kept", kept
    status, shown = await api("GET", f"{base}/api/tickets/{number}", agents.token)
    assert shown["call_linkage"]["outcome_label"] == "12345承办（首接负责）"


async def test_an_agent_hands_a_caller_to_a_colleague_then_to_a_skill_and_a_refused_number_is_logged(
    lab, agents, lab_env
):
    base = agents.base_url
    await agents.only_ready("1001", "1002", "1003")
    token_1001 = await asyncio.to_thread(api_token, lab_env, "1001", "agent")
    token_1002 = await asyncio.to_thread(api_token, lab_env, "1002", "agent")
    plan = tone_caller(lab, agents.settings)
    try:
        async with agents.floor() as floor:
            await place_call(lab, plan)
            bridged = await floor.wait_for(of_call(plan.caller_number, "call.bridged"), 90)
            call_id, first = bridged["call_id"], bridged["agent"]
            assert first == "1001", bridged
            transfer = f"{base}/api/calls/{call_id}/transfer"

            status, refused = await api("POST", transfer, token_1002, {"to": "agent:1003"})
            assert (status, refused["error_id"]) == (403, "not-your-call")
            status, refused = await api("POST", transfer, token_1001, {"to": "0088216123456"})
            assert (status, refused["error_id"]) == (403, "outbound-not-allowed")
            await floor.wait_for(lambda e: e.get("type") == "security.outbound_refused", 10)

            status, _ = await api("POST", transfer, token_1001, {"to": "agent:1002", "mode": "blind"})
            assert status == 200
            again = await floor.wait_for(
                lambda e: e.get("type") == "acd.queued" and e.get("transferred_by") == "1001", 15
            )
            assert again["agent"] == "1002"
            await floor.wait_for(agent_is("1002", "talking"), 30)
            status, view = await api("GET", f"{base}/api/calls/{call_id}", token_1002)
            assert status == 200 and [leg["party"] for leg in view["legs"] if leg["role"] == "agent"] == [
                "1002"
            ]

            status, _ = await api("POST", transfer, token_1002, {"to": "skill:12315"})
            assert status == 200
            await floor.wait_for(agent_is("1003", "talking"), 30)
            offered = [
                e["agent"] for e in floor.events if e.get("type") == "acd.offered" and e["call_id"] == call_id
            ]
            assert offered == ["1001", "1002", "1003"]
    finally:
        await agents.hang_up_everything()
    async with asyncio.timeout(20):  # the record book writes in batches
        while True:
            status, records = await api("GET", f"{base}/api/reports/records?limit=20", agents.token)
            record = next((r for r in records if r["call_id"] == call_id), {})
            if record.get("ended_at"):
                break
            await asyncio.sleep(0.2)
    assert (record["transfers"], record["offers"], record["agent"]) == (2, 3, "1001"), record
    assert record["disposition"] == "transferred"


async def test_an_agent_calls_a_citizen_back_about_a_ticket_shown_as_12345_noted_and_recorded_on_it(
    lab, agents, lab_env, supervisor_token
):
    base = agents.base_url
    await agents.only_ready("1001")
    token = await asyncio.to_thread(api_token, lab_env, "1001", "agent")
    citizen = "13911112222"
    body = {**COMPLAINT, "caller_phone": citizen}
    status, ticket = await api("POST", f"{base}/api/tickets", token, body)
    assert status in (200, 201), ticket
    since = time.time() - 1
    async with agents.floor() as floor, agents.ami(system=True) as system:
        shown = []
        system.on_event(
            lambda e: (
                shown.append(e.get("CallerIDNum"))
                if e.get("Event") == "DialBegin" and str(e.get("DestChannel", "")).startswith("PJSIP/carrier")
                else None
            )
        )
        body = {"number": citizen, "ticket": ticket["number"]}
        status, dial = await api("POST", f"{base}/api/agents/1001/dial", token, body)
        assert status == 202 and dial["state"] == "calling", dial
        await floor.wait_for(lambda e: e.get("type") == "agent.dial" and e.get("state") == "connected", 30)
        await recorded(recordings(lab), f"callee-{citizen}-from-12345-*.wav", since)  # the citizen answered
        status, refused = await api(
            "POST", f"{base}/api/agents/1001/dial", token, {"number": "0088216123456"}
        )
        assert (status, refused["error_id"]) in ((403, "outbound-not-allowed"), (409, "agent-busy"))
    async with asyncio.timeout(10):
        while True:
            status, seen = await api("GET", f"{base}/api/tickets/{ticket['number']}", token)
            notes = [e for e in seen["events"] if e.get("kind") == "noted" or e.get("type") == "noted"]
            if notes:
                break
            await asyncio.sleep(0.5)
    assert dial["dial_id"] in str(notes[-1]), notes
    await agents.hang_up_everything()
    # The call's recording is the ticket's: listed by the ticket, filed under it.
    async with asyncio.timeout(30):
        while True:
            status, listed = await api(
                "GET", f"{base}/api/recordings?ticket={ticket['number']}", supervisor_token
            )
            if [r for r in listed if r["call_id"] == dial["dial_id"]]:
                break
            await asyncio.sleep(0.5)
    assert [(r["kind"], r["ticket"]) for r in listed if r["kind"] == "conversation"] == [
        ("conversation", ticket["number"])
    ], listed


async def test_from_the_phone_star_9_calls_a_citizen_about_a_ticket_ringing_the_agent_back(
    lab, agents, lab_env
):
    base = agents.base_url
    await agents.only_ready("1001")
    token = await asyncio.to_thread(api_token, lab_env, "1001", "agent")
    citizen = "13911113333"
    status, ticket = await api("POST", f"{base}/api/tickets", token, {**COMPLAINT, "caller_phone": citizen})
    assert status in (200, 201), ticket
    since = time.time() - 1
    try:
        async with agents.floor() as floor:
            await agents.dial_feature_code("1001", "*90088216123456")  # not in the dialling plan
            refused = await floor.wait_for(lambda e: e.get("type") == "agent.refused", 15)
            assert (refused["code"], refused["error_id"]) == ("*9", "outbound-not-allowed"), refused
            # *9, the ticket's number, * and the citizen's: the phone is rung back once the prompt ends.
            await agents.dial_feature_code("1001", f"*9{ticket['number']}*{citizen}")
            calling = await floor.wait_for(
                lambda e: e.get("type") == "agent.dial" and e.get("state") == "calling", 15
            )
            assert (calling["number"], calling["ticket"], calling["by"]) == (
                citizen,
                ticket["number"],
                "1001",
            )
            await floor.wait_for(
                lambda e: e.get("type") == "agent.dial" and e.get("state") == "connected", 40
            )
        async with asyncio.timeout(15):  # the agent answered; then the citizen's phone rings, shown as 12345
            while not [
                p for p in recordings(lab).glob(f"callee-{citizen}-*.wav") if p.stat().st_mtime >= since
            ]:
                await asyncio.sleep(0.5)
        assert newest(recordings(lab), f"callee-{citizen}-from-12345-*.wav", since).exists()
        async with asyncio.timeout(10):
            while True:
                status, seen = await api("GET", f"{base}/api/tickets/{ticket['number']}", token)
                if notes := [e for e in seen["events"] if e.get("kind") == "noted"]:
                    break
                await asyncio.sleep(0.5)
        assert calling["dial_id"] in str(notes[-1]), notes
    finally:
        await agents.hang_up_everything()


async def test_an_attended_transfer_lets_the_agent_speak_to_12333_then_hand_over_by_hanging_up(lab, agents):
    base = agents.base_url
    await agents.phone("1001", tone=int(AGENT_HZ))
    await department_speaks(agents, "12333", DEPARTMENT_HZ)
    await agents.only_ready("1001")
    plan = tone_caller(lab, agents.settings)
    since = time.time() - 1
    try:
        async with agents.floor() as floor, agents.ami() as pstn:
            lab_pstn = AmiEvents(pstn)
            placed = await place_call(lab, plan)
            bridged = await floor.wait_for(of_call(plan.caller_number, "call.bridged"), 90)
            call_id = bridged["call_id"]
            await lab_pstn.wait_for(speaking("1001"), 15)
            # First the agent asks 12315, thinks better of it and calls the consult off: back with the caller.
            body = {"to": "12315", "mode": "attended"}
            status, view = await api("POST", f"{base}/api/calls/{call_id}/transfer", agents.token, body)
            assert status == 200, view
            await floor.wait_for(of_operation("call.transfer", "answered"), 30)
            status, view = await api("POST", f"{base}/api/calls/{call_id}/consult/cancel", agents.token)
            assert status == 200, view
            called_off = await floor.wait_for(of_operation("call.transfer", "cancelled"), 15)
            assert (called_off["to"], called_off["cancelled_by"]) == ("12315", "lab-supervisor")
            assert await roles_once(base, agents.token, call_id, "agent", "caller") == ["agent", "caller"]
            status, refused = await api("POST", f"{base}/api/calls/{call_id}/consult/cancel", agents.token)
            assert (status, refused["error_id"]) == (409, "no-consult")
            body = {"to": "12333", "mode": "attended"}
            status, view = await api("POST", f"{base}/api/calls/{call_id}/transfer", agents.token, body)
            assert status == 200 and view["consult"]["purpose"] == "attended", view
            await floor.wait_for(
                lambda e: of_operation("call.transfer", "answered")(e) and e["to"] == "12333", 30
            )
            await lab_pstn.wait_for(speaking("12333"), 15)
            await asyncio.sleep(PHASE)  # the agent and 12333 speak; the caller waits on hold
            await put_the_phone_down(agents, "1001")
            await floor.wait_for(of_operation("call.transfer", "handed_over"), 15)
            await asyncio.sleep(PHASE)
            status, view = await api("GET", f"{base}/api/calls/{call_id}", agents.token)
            assert sorted(leg["role"] for leg in view["legs"]) == ["caller", "department"], view
    finally:
        await all_quiet(agents, "12333")
    folder = recordings(lab)
    department_ear = newest(folder, "line-12333-from-12345-*.wav", since)
    consulted = await finished_wav(department_ear, lambda p: max(voices(p, AGENT_HZ)))
    handed, caller_heard = await last_heard(department_ear, folder / f"caller-{placed.caller_channel}.wav")
    print(
        f"attended: 12333 heard the agent at {consulted:.2f}; after the hand-over 12333 hears {handed}, "
        f"the caller hears {caller_heard}"
    )
    assert consulted > 0.1, "the agent spoke to 12333 first"
    assert handed[CALLER_HZ] > 0.1 and handed[AGENT_HZ] < 0.02
    assert caller_heard[DEPARTMENT_HZ] > 0.1
