"""The first call, end to end, with real SIP, RTP, DTMF and Mandarin speech.

A caller on the lab's PSTN dials 12345, presses 1 and describes their problem;
the FastAGI IVR records it, rings the agent idle longest, whose phone answers;
the controller's event stream shows the call from ring to hang-up with the
Chinese caller name intact, and every recording has sound in it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json

from redis.asyncio import Redis

from hotline.kernel.asterisk.ami import AmiClient
from hotline.kernel.runtime.live import CALLS_HASH
from hotline.lab.caller import place_call
from hotline.recordings.files import duration_seconds, rms_dbfs
from tests.lab.conftest import EventStream, api, registered_recording
from tests.lab.helpers import caller_plan, of_call, speak_after_the_beep

AUDIBLE_DBFS = -45.0


async def test_first_call_reaches_an_agent_with_events_and_recordings(
    lab, controller, settings, agents, supervisor_token, tmp_path
):
    await agents.only_ready("1001", "1002")
    plan = caller_plan(say_after=speak_after_the_beep(lab, settings))
    sockets = controller.base_url.replace("http", "ws")
    async with (
        agents.floor() as stream,
        EventStream(f"{sockets}/api/agents/1001/events?access_token={supervisor_token}") as desk_1001,
        EventStream(f"{sockets}/api/agents/1002/events?access_token={supervisor_token}") as desk_1002,
    ):
        await place_call(lab, plan)
        bridged = await stream.wait_for(of_call(plan.caller_number, "call.bridged"), timeout=60)
        hangup = await stream.wait_for(of_call(plan.caller_number, "call.hangup"), timeout=60)
        desk = {"1001": desk_1001, "1002": desk_1002}[bridged["agent"]]
        pop = await desk.wait_for(lambda e: e.get("type") == "agent.screen_pop", timeout=10)

    mine = [e for e in stream.events if e.get("caller_number") == plan.caller_number]
    kinds = [e["type"] for e in mine]
    for expected in ("call.ringing", "call.answered", "ivr.menu", "ivr.intake_recorded", "acd.offered"):
        assert expected in kinds
    assert kinds.index("call.ringing") < kinds.index("call.bridged") < kinds.index("call.hangup")
    assert {e["caller_name"] for e in mine} == {"张三客服"}
    assert next(e for e in mine if e["type"] == "ivr.menu")["digit"] == "1"
    assert bridged["agent"] in settings.lab_phones and hangup["call_id"] == bridged["call_id"]
    assert pop["agent"] == bridged["agent"] and pop["draft"]["caller_phone"] == plan.caller_number
    assert set(pop["history"]) == {"tickets", "calls"}
    assert "agent.screen_pop" not in kinds, "the caller's history goes to the agent's socket only"
    other = desk_1002 if desk is desk_1001 else desk_1001
    assert not [e for e in other.events if e.get("type") == "agent.screen_pop"]

    assert next(e for e in mine if e["type"] == "ivr.intake_recorded"), "no recording path on the stream"
    assert not [e for e in [*mine, pop] if "/recordings/" in json.dumps(e)]

    phone_files = sorted(
        lab.root.joinpath(lab.pstn_recordings_dir().lstrip("/")).glob(f"phone-{bridged['agent']}-*.wav"),
        key=lambda p: p.stat().st_mtime,
    )
    assert phone_files, "the agent's phone recorded nothing"
    assert rms_dbfs(phone_files[-1]) > AUDIBLE_DBFS, "the agent heard silence"

    # The recordings are entered in the register once Asterisk has closed them, and heard only through it.
    _, intake = await registered_recording(
        controller.base_url, supervisor_token, bridged["call_id"], "intake", tmp_path
    )
    assert duration_seconds(intake) > 1.5
    assert rms_dbfs(intake) > AUDIBLE_DBFS, "the caller's description was recorded as silence"
    heard, conversation = await registered_recording(
        controller.base_url, supervisor_token, bridged["call_id"], "conversation", tmp_path
    )
    assert rms_dbfs(conversation) > AUDIBLE_DBFS
    assert heard["sha256"] == hashlib.sha256(conversation.read_bytes()).hexdigest()
    url = f"{controller.base_url}/api/recordings?call={bridged['call_id']}"
    async with asyncio.timeout(30):
        while len(listed := (await api("GET", url, supervisor_token))[1]) < 4:
            await asyncio.sleep(0.5)
    assert {(r["kind"], r["agent"], r["caller_number"]) for r in listed} == {
        (kind, bridged["agent"], plan.caller_number)
        for kind in ("conversation", "caller_track", "agent_track", "intake")
    }
    # Nothing is left where Asterisk wrote it: each file lies in the folder of the call's day.
    assert not list(settings.host_path(settings.recordings_dir).glob(f"{bridged['call_id']}-*"))
    # The call's record names them (the register tells the records each entry as it is made).
    records_url = f"{controller.base_url}/api/reports/records?limit=50"
    async with asyncio.timeout(10):
        while True:
            records = (await api("GET", records_url, supervisor_token))[1]
            record = next(r for r in records if r["call_id"] == bridged["call_id"])
            if len(record["recording_ids"]) == 4:
                break
            await asyncio.sleep(0.5)
    assert sorted(record["recording_ids"]) == sorted(r["id"] for r in listed)


async def test_with_the_controller_stopped_an_agent_still_answers(lab, controller, settings, agents):
    await agents.only_ready("1001", "1002")  # in Asterisk's fallback queue, which answers without us
    controller.stop()
    ami = AmiClient(settings.bind_host, settings.ami_port, settings.ami_user, settings.ami_secret)
    bridged: list[str] = []
    channels: dict[str, str] = {}
    plan = caller_plan(dtmf="", say="", end_key="", hold=12)

    def watch(event) -> None:
        if event.get("Event") == "Newchannel" and event.get("CallerIDNum") == plan.caller_number:
            channels[event["Linkedid"]] = event["Channel"]
        if event.get("Event") == "BridgeEnter" and event.get("Linkedid") in channels:
            bridged.append(event["Channel"])

    ami.on_event(watch)
    await ami.connect()
    try:
        await place_call(lab, plan)
        async with asyncio.timeout(40):
            while not any(c.split("/")[1].split("-")[0] in settings.agents for c in bridged):
                await asyncio.sleep(0.1)
    finally:
        await ami.close()
    assert any(c.startswith("PJSIP/carrier-") for c in bridged), "the caller was not in the bridge"


async def test_a_restarted_controller_reconciles_a_call_in_progress(lab, controller, settings, agents):
    await agents.only_ready("1001")
    plan = caller_plan(say_after=speak_after_the_beep(lab, settings), hold=25)
    redis = Redis.from_url(settings.effective_redis_url)
    try:
        async with agents.floor() as stream:
            await place_call(lab, plan)
            bridged = await stream.wait_for(of_call(plan.caller_number, "call.bridged"), timeout=60)
        controller.stop()
        await redis.hdel(CALLS_HASH, bridged["call_id"])  # what a crash mid-write would leave
        controller.start()
        async with asyncio.timeout(10):
            while not await redis.hexists(CALLS_HASH, bridged["call_id"]):
                await asyncio.sleep(0.1)
        call = json.loads(await redis.hget(CALLS_HASH, bridged["call_id"]))
        assert call["caller_number"] == plan.caller_number and call["agent"] == bridged["agent"]
        async with agents.floor() as stream:
            await stream.wait_for(of_call(plan.caller_number, "call.hangup"), timeout=40)
        assert not await redis.hexists(CALLS_HASH, bridged["call_id"])
    finally:
        await redis.aclose()
