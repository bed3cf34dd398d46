"""Voicemails become tickets: the controller empties Asterisk's voicemail box into the ticket desk.

Every message, whether the flow sent the caller there (after hours, by the
caller's choice, nobody on duty) or the dialplan's own fallback did while no
controller ran, lands in the same app_voicemail box: that box is the spool.
The controller reads each message (its ``msgNNNN.txt`` and ``.wav``), makes
the ticket with, when speech-to-text is on, its transcript, keeps the
recording in the recordings' register under the ticket (heard, like every
recording, only through the register's rules), names it on the ticket, and
only then deletes the message. The ticket is keyed on the message's own
``msg_id`` and the recording on its call, so a crash anywhere before the
deletion makes no second of either: the message is read again and finds both.

The dialplan names the call in the message (``VM_CATEGORY``, which
app_voicemail writes as its ``category``), so the call, its voicemail and its
ticket are linked both ways: the ticket's ``call_id`` is the call's, the
recording is the call's and under the ticket, and the call's record lists the
recording (the register tells it, ``recording.filed``).

No Python runs beside Asterisk for this (the design card's pyst2 is for
process-AGI scripts, which this does not need): app_voicemail writes the box
with or without us, and the controller reads it when it can.
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from hotline.recordings.shelf import RecordingShelf
from hotline.ticketing.service import TicketDesk
from hotline.ticketing.vocabulary import Channel
from hotline.ticketing.workflow import PHONE

log = logging.getLogger(__name__)
VIA = "voicemail"
MESSAGE = re.compile(r"^msg\d{4}\.txt$")
#: The register's kind for a voicemail (its retention is the policy's ``voicemail``).
KIND = "voicemail"
#: A call id as Asterisk writes one (``hotline-1796644950.5``): what the dialplan leaves in ``category``.
CALL_ID = re.compile(r"^[\w.-]{1,64}$", re.ASCII)
Transcribe = Callable[[Path], Awaitable[str]]
Where = Callable[[], Awaitable[tuple[str, str]]]


@dataclass(frozen=True)
class Voicemail:
    """One message in the box, as app_voicemail describes it in its ``.txt``."""

    msg_id: str
    caller_number: str
    caller_name: str
    left_at: datetime
    seconds: int
    info: Path
    audio: Path
    #: The call that left it, as the dialplan named it; empty in a message left before it did.
    call: str = ""

    @property
    def call_id(self) -> str:
        """What the message's ticket and recording know it by: its call, or failing that the message."""
        return self.call or f"{VIA}-{self.msg_id}"[:64]


def _whole(text: str) -> bool:
    return text.isascii() and text.isdigit()


def read_voicemail(info: Path) -> Voicemail | None:
    """The message described by ``info``; None while its recording is not there (still being moved in)."""
    audio = info.with_suffix(".wav")
    if not audio.exists():
        return None
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=(";",), strict=False)
    parser.read_string(info.read_text(encoding="utf-8", errors="replace"))
    fields = parser["message"] if parser.has_section("message") else {}
    name, number = parseaddr(fields.get("callerid", ""))
    if not number and fields.get("callerid", "").strip().isdigit():
        number = fields["callerid"].strip()
    origtime, duration = fields.get("origtime", ""), fields.get("duration", "")
    call = fields.get("category", "").strip()
    left_at = datetime.fromtimestamp(int(origtime) if _whole(origtime) else info.stat().st_mtime, UTC)
    return Voicemail(
        # app_voicemail gives every message an id; a box from before it had them is keyed on time and slot.
        msg_id=fields.get("msg_id", "").strip() or f"{int(left_at.timestamp())}-{info.stem}",
        caller_number=number if PHONE.match(number) else "",
        caller_name=name[:50],
        left_at=left_at,
        seconds=int(duration) if _whole(duration) else 0,
        info=info,
        audio=audio,
        call=call if CALL_ID.match(call) else "",
    )


def voicemail_intake(
    message: Voicemail, transcript: str, category: str, region: str, zone: tzinfo
) -> dict[str, Any]:
    """The ticket's intake: type 其他 and an unclassified topic until an agent listens and classifies it."""
    said = f"转写：{transcript}" if transcript else "（未转写，请收听录音）"
    left_at = message.left_at.astimezone(zone)
    return {
        "type": "other",
        "channel": Channel.VOICEMAIL.value,
        "description": (
            f"语音留言 {message.seconds} 秒，来电号码 {message.caller_number or '未知'}，"
            f"留言时间 {left_at:%Y-%m-%d %H:%M}。\n{said}"
        ),
        "category": category,
        "region": region,
        "caller_name": message.caller_name,
        "caller_phone": message.caller_number,
        "external_id": message.msg_id,
        "call_id": message.call_id,
    }


class VoicemailBox:
    """The app_voicemail INBOX, read by the controller; ``collect`` turns what is there into tickets."""

    def __init__(
        self,
        inbox: Path,
        desk: TicketDesk,
        shelf: RecordingShelf,
        where: Where,
        zone: tzinfo,
        transcribe: Transcribe | None,
    ) -> None:
        self.inbox = inbox
        self.desk = desk
        self.shelf = shelf
        self.where = where  # the unclassified topic and the root region a new ticket waits under
        self.zone = zone
        self.transcribe = transcribe

    def waiting(self) -> list[Voicemail]:
        if not self.inbox.is_dir():
            return []
        found = (read_voicemail(path) for path in sorted(self.inbox.iterdir()) if MESSAGE.match(path.name))
        return sorted((message for message in found if message), key=lambda m: m.left_at)

    async def collect(self) -> list[str]:
        """Every waiting message becomes a ticket, oldest first; returns the tickets' numbers."""
        numbers = []
        for message in await asyncio.to_thread(self.waiting):  # file reads, off the event loop
            transcript = ""
            if self.transcribe is not None:
                try:
                    transcript = await self.transcribe(message.audio)
                except Exception:
                    log.exception("voicemail %s not transcribed; the audio is kept", message.msg_id)
            category, region = await self.where()
            left_at = message.left_at.astimezone(self.zone)
            number, created = await self.desk.take_in_with_files(
                voicemail_intake(message, transcript, category, region, self.zone), [], VIA, ""
            )
            recording = await self.shelf.keep(
                message.audio,
                message.call_id,
                KIND,
                number,
                message.caller_number,
                message.left_at,
                message.seconds,
            )
            await self.desk.name_recording(number, recording, f"语音留言-{left_at:%Y%m%d-%H%M%S}.wav", VIA)
            log.info("voicemail became ticket %s", number, extra={"new_ticket": created})
            for path in (message.audio, message.info):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            numbers.append(number)
        return numbers
