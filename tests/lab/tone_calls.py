"""Calls where everyone speaks as a tone: the caller at 1000 Hz, the agent's phone at 600 Hz, the
department's line at 1400 Hz; who heard whom is read from the lab PSTN's recordings."""

from __future__ import annotations

import asyncio
import time
import wave
from pathlib import Path

from hotline.lab.controller import api_token
from tests.lab.conftest import api, finished_wav, tone_share
from tests.lab.helpers import caller, newest, recordings, speak_after_the_beep

CALLER_HZ, AGENT_HZ, DEPARTMENT_HZ = 1000.0, 600.0, 1400.0
#: Seconds all three talk, then seconds caller and department talk alone; the last PHASE - 2 are measured.
PHASE = 5.0


def tone_caller(lab, settings, **overrides):
    """A caller who skips the greeting, ends a silent description with '#' after the beep, then speaks as a
    steady CALLER_HZ tone: speaking already when an agent answers."""
    return caller(
        say_after=speak_after_the_beep(lab, settings), end_key="#", tone=int(CALLER_HZ), **overrides
    )


def speaking(number: str):
    """Matches the lab PSTN's word that this phone or line has said its greeting and speaks now, as its tone
    (lab/pstn/extensions.conf)."""
    return lambda e: (
        e.get("Event") == "UserEvent" and e.get("UserEvent") == "LabSpeaks" and e.get("Number") == number
    )


def of_operation(kind: str, state: str):
    return lambda e: e.get("type") == kind and e.get("state") == state


async def department_speaks(agents, number: str, hz: float | None) -> None:
    async with agents.ami() as pstn:
        await pstn.action("DBPut", {"Family": "lab/tone", "Key": number, "Val": str(int(hz)) if hz else ""})


async def everyone_speaks(agents, lab_env, department: str):
    """Agent 1001 alone ready, speaking at AGENT_HZ, the department at DEPARTMENT_HZ; the agent's token, a
    caller speaking at CALLER_HZ, and the moment before the call (for the PSTN's recordings)."""
    await agents.phone("1001", tone=int(AGENT_HZ))
    await department_speaks(agents, department, DEPARTMENT_HZ)
    await agents.only_ready("1001")
    agent_token = await asyncio.to_thread(api_token, lab_env, "1001", "agent")
    return agent_token, tone_caller(agents.lab, agents.settings), time.time() - 1


async def roles(base: str, token: str, call_id: str) -> list[str]:
    """Who is on the call now, as the API shows its legs."""
    status, view = await api("GET", f"{base}/api/calls/{call_id}", token)
    assert status == 200, view
    return sorted(leg["role"] for leg in view["legs"])


async def roles_once(base: str, token: str, call_id: str, *expected: str, timeout: float = 10) -> list[str]:
    """The call's roles once they are ``expected`` (the controller follows Asterisk's events), or as they
    stand when ``timeout`` has passed."""
    deadline = time.monotonic() + timeout
    while (now := await roles(base, token, call_id)) != sorted(expected) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return now


async def all_quiet(agents, department: str) -> None:
    """After a test: the department and the agent's phone silent again, every call ended."""
    await department_speaks(agents, department, None)
    await agents.phone("1001")
    await agents.hang_up_everything()


async def police_heard_both(lab, caller_number: str, since: float) -> None:
    """110 was shown the caller's own number and heard the caller and the agent together."""
    police_ear = newest(recordings(lab), f"line-110-from-{caller_number}-*.wav", since)
    together = await finished_wav(police_ear, lambda p: max(voices(p, CALLER_HZ, AGENT_HZ)))
    assert together > 0.05, together


def shares(path: Path, **window: float) -> dict[float, float]:
    return {hz: round(tone_share(path, hz, **window), 3) for hz in (CALLER_HZ, AGENT_HZ, DEPARTMENT_HZ)}


async def last_heard(*ears: Path) -> list[dict[float, float]]:
    """What each recording heard in its last seconds: caller and department alone, after the agent went."""
    return [await finished_wav(ear, lambda p: shares(p, last=PHASE - 2)) for ear in ears]


def voices(path: Path, *hz: float) -> list[float]:
    """For each 2 s of a recording: how loud the weakest of these voices was."""
    with wave.open(str(path), "rb") as audio:
        seconds = audio.getnframes() / audio.getframerate()
    found = []
    for start in range(int(seconds) - 2):
        heard = shares(path, start=start, end=start + 2)
        found.append(min(heard[one] for one in hz))
    return found or [0.0]
