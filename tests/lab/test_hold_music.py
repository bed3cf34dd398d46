"""A caller waiting in the queue hears music between the announcements, not silence."""

from __future__ import annotations

import array
import itertools
import math
import wave
from pathlib import Path

from hotline.lab.caller import CallPlan, place_call
from tests.lab.conftest import finished_wav

numbers = (f"1350000{n:04d}" for n in itertools.count(1))
QUIET_DBFS = -50.0


def loudness_per_second(path: Path) -> list[float]:
    """dBFS of each whole second of a 16-bit mono WAV file."""
    with wave.open(str(path), "rb") as audio:
        rate = audio.getframerate()
        samples = array.array("h", audio.readframes(audio.getnframes()))
    seconds = []
    for start in range(0, len(samples) - rate + 1, rate):
        window = samples[start : start + rate]
        mean_square = sum(s * s for s in window) / rate
        seconds.append(10 * math.log10(mean_square / 32768**2) if mean_square else float("-inf"))
    return seconds


def longest_quiet_run(seconds: list[float]) -> int:
    runs = [len(list(group)) for quiet, group in itertools.groupby(s < QUIET_DBFS for s in seconds) if quiet]
    return max(runs, default=0)


async def test_a_waiting_caller_hears_music_between_announcements(lab, controller, settings, agents):
    await agents.only_ready()
    await agents.command("1001", "login")  # on duty but not ready: the caller waits
    plan = CallPlan(caller_number=next(numbers), dtmf="1", dtmf_after=1.0, hold=50)
    async with agents.floor() as floor:
        placed = await place_call(lab, plan)
        await floor.wait_for(
            lambda e: e.get("type") == "acd.queued" and e.get("caller_number") == plan.caller_number
        )
        await floor.wait_for(
            lambda e: e.get("type") == "call.hangup" and e.get("caller_number") == plan.caller_number,
            timeout=90,
        )
    heard = lab.root / lab.pstn_recordings_dir().lstrip("/") / f"caller-{placed.caller_channel}.wav"
    seconds = await finished_wav(heard, loudness_per_second)
    waiting = seconds[-20:-1]  # the last 20 s before the caller hung up: queued, between announcements
    print(
        f"quietest waiting second {min(waiting):.1f} dBFS; longest quiet run {longest_quiet_run(waiting)} s"
    )
    assert longest_quiet_run(waiting) <= 1, f"the caller heard silence while waiting: {waiting}"
