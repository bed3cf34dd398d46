"""What many lab tests share: callers to place, the floor's events to wait for, recordings to find."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from pathlib import Path

from panoramisk.message import Message

from hotline.ivr.prompts import prompt_path
from hotline.kernel.asterisk.ami import AmiClient
from hotline.lab.caller import CallPlan
from hotline.recordings.files import duration_seconds

SKIP_GREETING = "1"  # not an option: ends the greeting, "other matters"

_queue_callers = (f"1370000{n:04d}" for n in itertools.count(1))
_describing_callers = (f"1390000{n:04d}" for n in itertools.count(1))
_serials = itertools.count()


def caller(**overrides) -> CallPlan:
    """A caller who skips the greeting and waits in the queue, holding for up to four minutes."""
    plan = {"caller_number": next(_queue_callers), "dtmf": SKIP_GREETING, "dtmf_after": 1.0, "hold": 240}
    return CallPlan(**{**plan, **overrides})


def caller_plan(**overrides) -> CallPlan:
    """A caller with a Chinese name who presses 1 and describes a problem in Mandarin."""
    plan = {
        "caller_number": next(_describing_callers),
        "caller_name": "张三客服",
        "dtmf": "1",
        "dtmf_after": 1.0,
        "say": "楼下饭店油烟很大，影响休息",
        "say_after": 5.0,
        "end_key": "#",
        "hold": 8,
    }
    return CallPlan(**{**plan, **overrides})


def fresh_number() -> str:
    """A caller number no earlier run used: the lab's database keeps the tickets of every run."""
    return f"136{int(time.time()) % 10**6:06d}{next(_serials) % 100:02d}"


def speak_after_the_beep(lab, settings) -> float:
    """Seconds from the key press until the intake records: the describe prompt, then the beep."""
    prompt = settings.host_path(f"{prompt_path(settings.prompts_dir, 'describe')}.wav")
    return duration_seconds(prompt) + 1.5


def of_call(number: str, kind: str):
    """Matches the floor's event of this kind about this caller's call."""
    return lambda e: e.get("type") == kind and e.get("caller_number") == number


def agent_is(account: str, state: str):
    """Matches the floor's event that this agent reached this state."""
    return lambda e: e.get("type") == "agent.state" and e.get("agent") == account and e.get("state") == state


def first(events: list[dict], kind: str, **match) -> dict | None:
    """The first event of this kind whose fields match, if any."""
    return next(
        (e for e in events if e.get("type") == kind and all(e.get(k) == v for k, v in match.items())), None
    )


def newest(folder: Path, pattern: str, since: float) -> Path:
    """The latest recording matching ``pattern`` written since ``since``; there must be one."""
    found = [p for p in folder.glob(pattern) if p.stat().st_mtime >= since]
    assert found, f"no recording {pattern} in {folder}"
    return max(found, key=lambda p: p.stat().st_mtime)


async def recorded(folder: Path, pattern: str, since: float, timeout: float = 15) -> Path:
    """The latest recording matching ``pattern`` written since ``since``, once the PSTN has begun one (it
    opens the file as it answers)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not [p for p in folder.glob(pattern) if p.stat().st_mtime >= since]:
        await asyncio.sleep(0.1)
    return newest(folder, pattern, since)


class AmiEvents:
    """Every event an AMI session hears from now on, kept to be waited for as the floor's are."""

    def __init__(self, ami: AmiClient) -> None:
        self.ami = ami
        self.events: list[Message] = []
        ami.on_event(self.events.append)

    async def wait_for(self, predicate: Callable[[Message], bool], timeout: float = 30) -> Message:
        async with asyncio.timeout(timeout):
            while True:
                found = next((e for e in self.events if predicate(e)), None)
                if found is not None:
                    return found
                await asyncio.sleep(0.05)

    async def caught_up(self) -> None:
        """Returns once every event Asterisk raised before now is in ``events``: Asterisk writes a session's
        pending events before it reads the session's next action, and the reply comes behind them."""
        await self.ami.action("Ping", idempotent=True)


async def put_the_phone_down(agents, account: str) -> None:
    """The agent hangs up their own phone (the lab's PSTN plays it)."""
    async with agents.ami() as pstn:
        channels = (await pstn.action("CoreShowChannels", idempotent=True)).events
        (phone,) = [c for c in channels if c.get("Exten") == account]
        await pstn.action("Hangup", {"Channel": phone["Channel"]})


def recordings(lab) -> Path:
    """The lab's PSTN's recordings folder, as the host sees it."""
    return lab.root / lab.pstn_recordings_dir().lstrip("/")
