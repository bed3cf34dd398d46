"""What many lab tests share: callers to place, the floor's events to wait for, recordings to find."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from hotline.ivr.prompts import prompt_path
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


def recordings(lab) -> Path:
    """The lab's PSTN's recordings folder, as the host sees it."""
    return lab.root / lab.pstn_recordings_dir().lstrip("/")
