"""The caller rates the service after the agent hangs up (real Asterisk): on the record and the ticket."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hotline.lab.caller import place_call
from hotline.lab.controller import ControllerProcess, api_token
from hotline.workspace.screen_pop import ticket_draft
from tests.integration.helpers import COMPLAINT
from tests.lab.conftest import api
from tests.lab.helpers import AmiEvents, agent_is, caller, fresh_number, of_call

LAB_MENU = Path(__file__).resolve().parents[2] / "lab" / "menu.toml"


def surveyed(call_id: str):
    return lambda e: e.get("type") == "ivr.survey" and e.get("call_id") == call_id


def asking(event) -> bool:
    """The IVR begins the survey's question (its STREAM FILE, which the rating's key ends)."""
    command = str(event.get("Command", "")).upper()
    return event.get("Event") == "AGIExecStart" and command.startswith("STREAM FILE") and "/SURVEY" in command


async def test_the_caller_presses_3_after_the_agent_hangs_up_and_the_ticket_and_record_say_dissatisfied(
    lab, lab_env, controller, settings, agents, tmp_path
):
    menu = tmp_path / "survey-menu.toml"  # top-level keys before the menu's first table
    menu.write_text(
        "survey = true\nsurvey_wait = 10\n" + LAB_MENU.read_text(encoding="utf-8"), encoding="utf-8"
    )
    controller.stop()  # the same ports, with the survey on
    surveying = ControllerProcess(
        {**lab_env, "HOTLINE_IVR_MENU": str(menu)}, settings, tmp_path / "survey.log"
    )
    surveying.start()
    plan = caller(caller_number=fresh_number(), hold=120)
    try:
        await agents.phone("1001", talk_seconds=4)  # the agent's phone hangs up after a short talk
        await agents.only_ready("1001")
        async with agents.floor() as floor, agents.ami(system=True) as system:
            ivr = AmiEvents(system)
            placed = await place_call(lab, plan)
            bridged = await floor.wait_for(of_call(plan.caller_number, "call.bridged"), 90)
            call_id = bridged["call_id"]
            await floor.wait_for(agent_is("1001", "wrap_up"), 30)  # the agent hung up; the caller stays
            await ivr.wait_for(asking, 15)  # the question is being asked
            async with agents.ami() as pstn:
                channels = (await pstn.action("CoreShowChannels", idempotent=True)).events
                (line,) = [c for c in channels if c.get("Uniqueid") == placed.caller_channel]
                await pstn.action("PlayDTMF", {"Channel": line["Channel"], "Digit": "3", "Duration": "250"})
            survey = await floor.wait_for(surveyed(call_id), 20)
            hangup = await floor.wait_for(
                of_call(plan.caller_number, "call.hangup"), 30
            )  # thanked, then ended
    finally:
        surveying.stop()
        await agents.phone("1001")
        controller.start()  # the fixture stops what it started
    assert (survey["rating"], survey["agent"]) == ("dissatisfied", "1001")
    assert hangup["call_id"] == call_id

    # The agent writes the ticket after the call: it shows how the caller rated the service.
    agent_token = await asyncio.to_thread(api_token, lab_env, "1001", "agent")
    draft = ticket_draft(call_id, plan.caller_number, "", "12345")
    said = {k: COMPLAINT[k] for k in ("type", "description", "category", "region")}
    base = controller.base_url
    status, ticket = await api("POST", f"{base}/api/tickets", agent_token, {**draft, **said})
    assert status == 201, ticket
    status, shown = await api("GET", f"{base}/api/tickets/{ticket['number']}", agent_token)
    assert status == 200 and shown["call_rating"]["rating"] == "dissatisfied", shown
    assert shown["call_rating"]["label"] == "不满意" and shown["call_rating"]["agent"] == "1001"

    # And the call's record, for the agents' satisfaction rate.
    status, records = await api("GET", f"{base}/api/reports/records?limit=50", agents.token)
    record = next(r for r in records if r["call_id"] == call_id)
    assert (record["rating"], record["agent"], record["outcome"]) == ("dissatisfied", "1001", "answered")
