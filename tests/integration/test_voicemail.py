"""The voicemail box emptied into tickets exactly once, each recording kept in the recordings' register
(under lock and key: heard through it, never as a ticket's file) and mailed to the people on duty."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.intake.voicemail import VoicemailBox
from hotline.kernel.api.identity import Actor, Role
from hotline.notices.service import Notices
from hotline.ticketing.errors import TicketError
from hotline.ticketing.service import UNCLASSIFIED_CATEGORY, TicketDesk
from hotline.ticketing.store import TicketFilter
from tests.integration.outgoing import ON_DUTY, ZONE, Relay, shelf_of
from tests.unit.intake.voicemail_inbox import INFO, leave

AGENT = Actor("agent1", Role.AGENT)
UNIT = Actor("城管中队", Role.UNIT, "cgj.majiadian")
SAID = "小区门口的路灯坏了"
SECOND = INFO.replace("1796222475-00000001", "1796222990-00000002").replace("13800138000", "13900139000")


def box_of(desk: TicketDesk, inbox: Path, heard: list[Path], said: str = SAID) -> VoicemailBox:
    async def where() -> tuple[str, str]:
        return UNCLASSIFIED_CATEGORY, await desk.directory.root_region()

    async def transcribe(path: Path) -> str:
        heard.append(path)
        return said

    return VoicemailBox(inbox, desk, shelf_of(desk), where, ZONE, transcribe)


async def test_two_messages_become_two_tickets_once_each_with_recording_and_transcript(
    filing_desk: TicketDesk, tmp_path: Path
) -> None:
    inbox, heard = tmp_path / "INBOX", []
    leave(inbox, "msg0000")
    leave(inbox, "msg0001", SECOND)
    box = box_of(filing_desk, inbox, heard)
    first, second = await box.collect()
    assert list(inbox.iterdir()) == []  # emptied once the tickets hold the recordings
    assert len(heard) == 2
    # A controller killed after the tickets but before the deletion reads the same messages again.
    leave(inbox, "msg0000")
    leave(inbox, "msg0001", SECOND)
    assert await box.collect() == [first, second]
    tickets = await filing_desk.list(AGENT, TicketFilter())
    assert len(tickets) == 2
    shown = await filing_desk.show(first, AGENT)
    assert (shown["intake"]["channel"], shown["intake"]["caller_phone"]) == ("voicemail", "13800138000")
    assert shown["intake"]["description"].endswith("转写：小区门口的路灯坏了")
    # The recording is in the register, under the ticket, filed by the day it was left, kept a year.
    shelf = shelf_of(filing_desk)
    calls = await filing_desk.call_ids(first, AGENT)
    [kept] = await shelf.of_calls(calls)
    assert (kept["kind"], kept["ticket"], kept["caller_number"], kept["seconds"]) == (
        "voicemail",
        first,
        "13800138000",
        9,
    )
    _, _, path = await shelf.find(kept["id"])
    assert path.read_bytes() == b"RIFF....WAVE" and path.parent.as_posix().endswith("2026/12/02")
    assert filing_desk.policy.recording_retention["voicemail"] == 365
    # The ticket names it, but its file is heard only through the register (roles, reason, audit).
    [named] = shown["attachments"]
    assert (named["name"], named["recording_id"], named["sha256"]) == (
        "语音留言-20261202-224115.wav",
        kept["id"],
        kept["sha256"],
    )
    await filing_desk.act(first, "dispatch", {"unit": "cgj.majiadian"}, AGENT)  # the unit sees the ticket
    for actor in (AGENT, UNIT):
        with pytest.raises(TicketError) as refused:
            await filing_desk.attachment(first, named["sha256"], actor)
        assert (refused.value.status, refused.value.error_id) == (403, "recording-in-register")


async def test_each_voicemail_is_mailed_to_the_people_on_duty_with_its_recording_on_its_trail(
    filing_desk: TicketDesk, notices: Notices, relay: Relay, tmp_path: Path
) -> None:
    leave(tmp_path / "INBOX")
    [number] = await box_of(filing_desk, tmp_path / "INBOX", []).collect()
    await notices.follow()
    assert await notices.deliver() == 1
    [mail] = relay.received
    assert (mail["To"], mail["Subject"]) == (ON_DUTY[0], f"语音留言 {number}（13800138000）")
    [audio] = list(mail.iter_attachments())
    assert audio.get_filename() == "语音留言-20261202-224115.wav"
    assert audio.get_content() == b"RIFF....WAVE"
    assert "转写：小区门口的路灯坏了" in mail.get_body(("plain",)).get_content()
    # Handing the recording out is on its trail, like every access.
    shelf = shelf_of(filing_desk)
    [kept] = await shelf.of_calls(await filing_desk.call_ids(number, AGENT))
    assert [(t["actor"], t["action"], t["reason"]) for t in await shelf.trail(kept["id"])] == [
        ("system", "mail", f"邮件发送给值班邮箱 {ON_DUTY[0]}")
    ]


async def test_a_voicemail_is_classified_from_its_transcript_with_the_numbers_it_mentions(
    filing_desk: TicketDesk, tmp_path: Path
) -> None:
    inbox = tmp_path / "INBOX"
    leave(inbox, "msg0000")
    leave(inbox, "msg0001", SECOND.replace('callerid="张三" <13900139000>', "callerid=Unknown"))
    said = "我要投诉，董市镇幸福路的路灯坏了一个星期，有事打我另一个电话13912345678"
    known, anonymous = await box_of(filing_desk, inbox, [], said).collect()
    ticket = await filing_desk.show(known, AGENT)
    intake = ticket["intake"]
    assert (ticket["type_label"], intake["category"], intake["region"]) == (
        "投诉",
        "urban.roads",
        "zj.dongshi",
    )
    assert (intake["caller_phone"], intake["phones_mentioned"]) == ("13800138000", ["13912345678"]), (
        "the caller's own number, in the description's first line, is no news"
    )
    assert intake["guessed"] == ["ticket_type", "category", "region", "places_mentioned", "phones_mentioned"]
    intake = (await filing_desk.show(anonymous, AGENT))["intake"]
    assert (intake["caller_phone"], intake["callback_phone"]) == ("13912345678", "13912345678")
    assert {"caller_phone", "callback_phone"} <= set(intake["guessed"]), "a number to call back, guessed"
