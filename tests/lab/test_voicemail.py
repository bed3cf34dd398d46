"""Nights and outages on the real Asterisk: a voicemail becomes a ticket with its recording, its transcript
and an email to the people on duty; voicemails left while no controller runs become tickets once each."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hotline.ivr.prompts import prompt_path, synthesize
from hotline.lab.caller import place_call
from hotline.lab.controller import ControllerProcess
from hotline.recordings.files import duration_seconds, rms_dbfs
from hotline.ticketing.policy import PRESETS_DIR
from tests.integration.outgoing import Relay
from tests.lab.conftest import api, registered_recording
from tests.lab.helpers import caller, fresh_number
from tests.lab.korean_speech import MODEL, SPOKEN, edit_distance, offline

ON_DUTY = "zhiban@hotline.local"
AUDIBLE_DBFS = -45.0
ZHIJIANG = PRESETS_DIR / "zhijiang.toml"


def closed_now(folder: Path) -> Path:
    """Zhijiang's policy answering only in an hour that is not this one: every call now is after hours."""
    hour = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=1)).hour
    answering = f'answering = "{hour:02d}:00-{hour:02d}:30"'
    text = ZHIJIANG.read_text(encoding="utf-8").replace('answering = "7x24"', answering)
    path = folder / "closed-now.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def voicemail_tickets(
    base_url: str, token: str, number: str, wanted: int, seconds: float
) -> list[dict]:
    """The voicemail tickets of this caller, once there are ``wanted`` of them."""
    url = f"{base_url}/api/tickets?channel=voicemail&caller_phone={number}"
    async with asyncio.timeout(seconds):
        while True:
            status, tickets = await api("GET", url, token)
            assert status == 200, tickets
            if len(tickets) >= wanted:
                return tickets
            await asyncio.sleep(0.3)


async def test_an_after_hours_voicemail_becomes_a_ticket_with_its_recording_transcript_and_an_email(
    lab, lab_env, block, scratch, controller, settings, agents, supervisor_token, tmp_path
):
    await asyncio.to_thread(synthesize, SPOKEN, f"{block.scratch}/vm-source", lab.run, "ko")
    source = scratch / "vm-source.wav"
    relay = Relay(block.mail_relay_port)
    await relay.up()
    await agents.only_ready()
    controller.stop()  # the same ports: after hours, speech-to-text on, notices out through the relay
    night = ControllerProcess(
        {
            **lab_env,
            "HOTLINE_TICKET_POLICY": str(closed_now(tmp_path)),
            "HOTLINE_STT_MODEL": str(MODEL),
            "HOTLINE_MAIL_RELAY": f"127.0.0.1:{block.mail_relay_port}",
            "HOTLINE_ON_DUTY_MAILBOXES": ON_DUTY,
        },
        settings,
        tmp_path / "night.log",
    )
    night.start()
    try:
        prompt = settings.host_path(f"{prompt_path(settings.prompts_dir, 'night')}.wav")
        plan = caller(
            caller_number=fresh_number(),
            say="",
            wav=source,
            say_after=duration_seconds(prompt) + 2.5,
            end_key="#",
            hold=40,
        )
        await place_call(lab, plan)
        [found] = await voicemail_tickets(night.base_url, supervisor_token, plan.caller_number, 1, 90)
        async with asyncio.timeout(60):  # mailed once the recording is on the ticket
            while not (mails := [m for m in relay.received if found["number"] in m["Subject"]]):
                await asyncio.sleep(0.5)
        status, ticket = await api("GET", f"{night.base_url}/api/tickets/{found['number']}", supervisor_token)
        assert status == 200, ticket
        # The recording is the register's, under the ticket, heard through it (the ticket only names it).
        kept, stored = await registered_recording(
            night.base_url, supervisor_token, ticket["intake"]["call_id"], "voicemail", tmp_path
        )
        status, refused = await api(
            "GET",
            f"{night.base_url}/api/tickets/{found['number']}/attachments/{kept['sha256']}",
            supervisor_token,
        )
        _, records = await api("GET", f"{night.base_url}/api/reports/records?limit=50", supervisor_token)
    finally:
        night.stop()
        controller.start()  # the fixture stops what it started
        await relay.down()
    [named] = ticket["attachments"]
    assert (named["recording_id"], kept["ticket"]) == (kept["id"], ticket["number"])
    # Issue 28: the call, its voicemail and its ticket name each other (the dialplan names the call).
    [record] = [r for r in records if r["caller_number"] == plan.caller_number]
    assert (record["outcome"], record["recording_ids"]) == ("voicemail", [kept["id"]]), record
    assert ticket["intake"]["call_id"] == kept["call_id"] == record["call_id"], (ticket["intake"], record)
    assert (status, refused["error_id"]) == (403, "recording-in-register")
    heard = await asyncio.to_thread(offline, stored, {**lab_env})
    said = ticket["intake"]["description"].split("转写：", 1)[-1]
    print(
        f"voicemail: {duration_seconds(stored):.1f} s at {rms_dbfs(stored):.1f} dBFS; ticket text {said!r}, "
        f"the model offline on the same recording {heard['text']!r}"
    )
    assert ticket["status"] == "received" and ticket["intake"]["caller_phone"] == plan.caller_number
    assert duration_seconds(stored) > 3 and rms_dbfs(stored) > AUDIBLE_DBFS
    assert heard["text"] and edit_distance(said, heard["text"]) <= max(3, len(heard["text"]) // 4)
    [mail] = mails
    assert (mail["To"], mail["Subject"]) == (ON_DUTY, f"语音留言 {ticket['number']}（{plan.caller_number}）")
    [audio] = list(mail.iter_attachments())
    assert audio.get_content() == stored.read_bytes()
    inbox = settings.host_path(settings.voicemail_inbox)
    assert not list(inbox.glob("msg*")), "the box is emptied once the tickets hold the messages"


async def test_voicemails_left_while_the_controller_is_stopped_become_exactly_two_tickets(
    lab, controller, settings, agents, supervisor_token
):
    await agents.only_ready()
    await asyncio.to_thread(controller.stop)
    # The dialplan's fallback: its prompt (9 s), the queue nobody answers (30 s here), the voicemail prompt
    # (11 s), then the message, as a steady tone until the caller hangs up: some 8 s of it.
    callers = [caller(caller_number=fresh_number(), tone=tone, hold=60) for tone in (700, 900)]
    for plan in callers:
        await place_call(lab, plan)
    inbox = settings.host_path(settings.voicemail_inbox)
    async with asyncio.timeout(120):
        while len(list(inbox.glob("msg*.txt"))) < 2:
            await asyncio.sleep(0.3)
    await asyncio.to_thread(controller.start)
    async with asyncio.timeout(60):  # emptied once both tickets hold their recordings
        while list(inbox.glob("msg*")):
            await asyncio.sleep(0.5)
    for plan in callers:
        [found] = await voicemail_tickets(controller.base_url, supervisor_token, plan.caller_number, 1, 60)
        _, ticket = await api("GET", f"{controller.base_url}/api/tickets/{found['number']}", supervisor_token)
        assert ticket["intake"]["description"].startswith("语音留言") and len(ticket["attachments"]) == 1
        # The dialplan's fallback names the call in the message too: the ticket is the call's (issue 28).
        assert re.fullmatch(r"hotline-[0-9.]+", ticket["intake"]["call_id"]), ticket["intake"]
    await asyncio.sleep(6)  # a round of the box later, nothing more
    for plan in callers:
        tickets = await voicemail_tickets(controller.base_url, supervisor_token, plan.caller_number, 1, 5)
        assert len(tickets) == 1
