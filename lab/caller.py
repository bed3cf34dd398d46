"""``hotline call``: a real call from the lab's PSTN into the system.

The PSTN instance originates a SIP call to the system's trunk with the given
caller number and name; once answered it sends keys and plays speech on a
schedule (espeak-ng Mandarin at 8 kHz, or a WAV file), then holds. ``hotline call`` stays with the
call until it ends, as a caller on the line does; Ctrl-C hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from panoramisk.message import Message

from hotline.ivr.prompts import speech_name
from hotline.kernel.asterisk.ami import AmiClient, AmiError
from hotline.lab.lab import Lab

VALID_KEYS = set("0123456789*#ABCDabcdw")
#: How long Ctrl-C waits for Asterisk to confirm the caller's hang-up before the command ends anyway.
HANG_UP_SECONDS = 3.0


class CallError(RuntimeError):
    """The call could not be placed; the message says why."""


@dataclass(frozen=True)
class CallPlan:
    caller_number: str
    to: str = "12345"
    caller_name: str = ""
    dtmf: str = ""
    say: str = ""
    wav: Path | None = None
    hold: int = 60
    dtmf_after: float = 3.0
    say_after: float = 9.0
    end_key: str = ""
    tone: int | None = None  # after the speech and the end key, the caller speaks as this steady tone (Hz)

    def validate(self) -> None:
        if not self.caller_number.isdigit():
            raise CallError(f"--from must be digits, got {self.caller_number!r}")
        if not self.to.isdigit():
            raise CallError(f"--to must be digits, got {self.to!r}")
        if set(self.dtmf + self.end_key) - VALID_KEYS:
            raise CallError(f"--dtmf may hold only 0-9 * # A-D, got {self.dtmf!r}")
        if self.say and self.wav:
            raise CallError("give --say or --wav, not both")
        if self.wav and not self.wav.is_file():
            raise CallError(f"--wav: no such file {self.wav}")
        if not 1 <= self.hold <= 3600:
            raise CallError("--hold must be between 1 and 3600 seconds")
        if self.tone is not None and not 100 <= self.tone <= 3400:
            raise CallError("--tone must be between 100 and 3400 Hz")
        if '"' in self.caller_name or "\n" in self.caller_name:
            raise CallError("--name cannot contain quotes or line breaks")


def prepare_audio(lab: Lab, plan: CallPlan) -> str:
    """The speech as a file the PSTN instance can play (path without extension), or ""."""
    sounds = lab.pstn_sounds_dir()
    if plan.say:
        target = f"{sounds}/{speech_name(plan.say)}"
        lab.speak(plan.say, target)
        return target
    if plan.wav:
        target = f"{sounds}/wav-{uuid.uuid4().hex[:12]}"
        staged = lab.root / f"{target.lstrip('/')}.in{plan.wav.suffix}"
        staged.write_bytes(plan.wav.read_bytes())
        lab.run(
            ["sox", f"{target}.in{plan.wav.suffix}", "-r", "8000", "-c", "1", "-b", "16", f"{target}.wav"]
        )
        staged.unlink()
        return target
    return ""


@dataclass(frozen=True)
class PlacedCall:
    call_id: str  # the system's id for the call, as every event names it
    caller_channel: str  # the caller's channel on the lab's PSTN (its recording is caller-<this>.wav)


class Dialler:
    """The lab's PSTN placing calls into the system, over one AMI session to each Asterisk however many
    calls it places: a soak's hundred callers must not be a hundred sessions that each hear every event."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        settings = lab.settings
        self._system = AmiClient(
            settings.bind_host, settings.ami_port, settings.ami_user, settings.ami_secret, name="sut"
        )
        self._pstn = AmiClient(
            settings.bind_host, settings.pstn_ami_port, "lab", settings.pstn_ami_secret, name="pstn"
        )
        self._arriving: dict[str, asyncio.Future[str]] = {}  # caller number → the system's call id
        self._on_line: dict[str, asyncio.Event] = {}  # caller's channel → set when it hangs up
        self._system.on_event(self._system_side)
        self._pstn.on_event(self._caller_side)

    def _system_side(self, event: Message) -> None:
        """The system's first channel of a call: its linked id is the call id in the events."""
        if event.get("Event") != "Newchannel" or event.get("Context") != "from-carrier":
            return
        arrived = self._arriving.get(str(event.get("CallerIDNum")))
        if arrived is not None and not arrived.done():
            arrived.set_result(str(event.get("Linkedid") or event.get("Uniqueid")))

    def _caller_side(self, event: Message) -> None:
        """The caller's channel on the PSTN hung up (its uniqueid is the id the call was originated with)."""
        if event.get("Event") == "Hangup":
            ended = self._on_line.pop(str(event.get("Uniqueid")), None)
            if ended is not None:
                ended.set()

    async def __aenter__(self) -> Dialler:
        await self._system.connect()
        try:
            await self._pstn.connect()
        except BaseException:
            await self._system.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._pstn.close()
        await self._system.close()

    async def call(self, plan: CallPlan, answer_timeout: float = 30) -> PlacedCall:
        """Originate the call; returns its ids once the system answered."""
        plan.validate()
        if plan.caller_number in self._arriving:
            raise CallError(f"{plan.caller_number} is already calling through this dialler")
        audio = await asyncio.to_thread(prepare_audio, self.lab, plan)  # espeak-ng and sox block
        caller_channel = f"lab-{uuid.uuid4().hex[:12]}"
        arrived = self._arriving[plan.caller_number] = asyncio.get_running_loop().create_future()
        self._on_line[caller_channel] = asyncio.Event()  # before the call exists: it may end at once
        answered = False
        try:
            caller_id = (
                f'"{plan.caller_name}" <{plan.caller_number}>' if plan.caller_name else plan.caller_number
            )
            variables = {
                "LAB_DTMF": plan.dtmf,
                "LAB_DTMF_AFTER": plan.dtmf_after,
                "LAB_SAY": audio,
                # Without speech, the end key still waits its turn: it ends a description being recorded.
                "LAB_SAY_AFTER": plan.say_after if audio or plan.end_key else 0,
                "LAB_END_KEY": plan.end_key,
                "LAB_HOLD": plan.hold,
                "LAB_TONE": plan.tone or "",
            }
            result = await self._pstn.originate(
                {
                    "Channel": f"PJSIP/{plan.to}@sut",
                    "Context": "lab-caller",
                    "Exten": "s",
                    "Priority": "1",
                    "CallerID": caller_id,
                    "ChannelId": caller_channel,
                    "Timeout": str(int(answer_timeout * 1000)),
                    "Variable": [f"{k}={v}" for k, v in variables.items()],
                },
                timeout=answer_timeout + 10,
            )
            if result.get("Response") != "Success":
                raise CallError(
                    f"call to {plan.to} not answered: {result.get('Reason', '')} {result.get('Response', '')}"
                )
            async with asyncio.timeout(5):
                call_id = await arrived
            answered = True
        finally:
            del self._arriving[plan.caller_number]
            if not answered:
                self._on_line.pop(caller_channel, None)
        return PlacedCall(call_id, caller_channel)

    async def ended(self, placed: PlacedCall) -> None:
        """Returns once the caller's side of the call has hung up (at once if it has already)."""
        on_line = self._on_line.get(placed.caller_channel)
        if on_line is not None:
            await on_line.wait()

    async def hang_up(self, placed: PlacedCall, timeout: float | None = None) -> None:
        """The caller puts the phone down (Asterisk finds a channel by its uniqueid as by its name)."""
        await self._pstn.action("Hangup", {"Channel": placed.caller_channel}, check=False, timeout=timeout)


async def place_call(lab: Lab, plan: CallPlan, answer_timeout: float = 30) -> PlacedCall:
    """One call, with AMI sessions of its own; returns once the system answered, the call going on."""
    async with Dialler(lab) as dialler:
        return await dialler.call(plan, answer_timeout)


async def call_and_hold(lab: Lab, plan: CallPlan, answered: Callable[[PlacedCall], None]) -> None:
    """One call, told to ``answered`` once the system answers, then held until it ends; cancelled (Ctrl-C),
    the caller hangs up."""
    async with Dialler(lab) as dialler:
        placed = await dialler.call(plan)
        answered(placed)
        try:
            await dialler.ended(placed)
        except asyncio.CancelledError:
            # Ctrl-C ends the command at once: a hang-up Asterisk is slow to confirm is not waited for.
            with contextlib.suppress(AmiError):
                await dialler.hang_up(placed, timeout=HANG_UP_SECONDS)
            raise
