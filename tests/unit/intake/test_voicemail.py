"""The voicemail box as app_voicemail leaves it: each message read whole, or not yet."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hotline.intake.voicemail import Voicemail, read_voicemail, voicemail_intake
from hotline.ticketing.workflow import parse_intake
from tests.unit.intake.voicemail_inbox import INFO, leave


def test_a_message_is_read_with_its_caller_time_length_and_id(tmp_path: Path) -> None:
    message = read_voicemail(leave(tmp_path))
    assert message == Voicemail(
        msg_id="1796222475-00000001",
        caller_number="13800138000",
        caller_name="张三",
        left_at=datetime.fromtimestamp(1796222475, UTC),
        seconds=9,
        info=tmp_path / "msg0000.txt",
        audio=tmp_path / "msg0000.wav",
    )


def test_a_message_whose_recording_is_not_there_yet_waits(tmp_path: Path) -> None:
    assert read_voicemail(leave(tmp_path, audio=False)) is None


def test_an_anonymous_caller_and_a_box_without_ids_still_give_a_stable_key(tmp_path: Path) -> None:
    info = INFO.replace('callerid="张三" <13800138000>', "callerid=Unknown").replace(
        "msg_id=1796222475-00000001\n", ""
    )
    message = read_voicemail(leave(tmp_path, "msg0003", info))
    assert (message.caller_number, message.msg_id) == ("", "1796222475-msg0003")


def test_the_intake_is_a_voicemail_ticket_with_the_transcript_in_local_time(tmp_path: Path) -> None:
    message = read_voicemail(leave(tmp_path))
    intake = voicemail_intake(message, "路灯坏了", "other", "zj", ZoneInfo("Asia/Shanghai"))
    parsed = parse_intake(intake)
    assert (parsed.channel.label, parsed.caller_phone, parsed.external_id) == (
        "语音留言",
        "13800138000",
        "1796222475-00000001",
    )
    assert (
        parsed.description
        == "语音留言 9 秒，来电号码 13800138000，留言时间 2026-12-02 22:41。\n转写：路灯坏了"
    )
    untranscribed = voicemail_intake(message, "", "other", "zj", ZoneInfo("Asia/Shanghai"))
    assert untranscribed["description"].endswith("（未转写，请收听录音）")


def test_a_message_names_the_call_that_left_it_so_ticket_and_recording_are_that_calls(tmp_path: Path) -> None:
    """Issue 28: the dialplan sets VM_CATEGORY to the call's id, which app_voicemail writes as category."""
    info = INFO.replace("category=\n", "category=hotline-1796222470.7\n")
    message = read_voicemail(leave(tmp_path, info=info))
    assert (message.call, message.call_id) == ("hotline-1796222470.7", "hotline-1796222470.7")
    intake = voicemail_intake(message, "", "other", "zj", ZoneInfo("Asia/Shanghai"))
    assert intake["call_id"] == "hotline-1796222470.7"
    # A message left before the dialplan named calls, or a category that is not a call id, keeps its own key.
    assert read_voicemail(leave(tmp_path, "msg0001")).call_id == "voicemail-1796222475-00000001"
    odd = read_voicemail(leave(tmp_path, "msg0002", INFO.replace("category=\n", "category=a b;c\n")))
    assert (odd.call, odd.call_id) == ("", "voicemail-1796222475-00000001")
