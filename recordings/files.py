"""Recording file names (as Asterisk sees them) and a loudness measure.

Names carry the call id, so a ticket, a call and its audio are joined by one key.
"""

from __future__ import annotations

import array
import math
import re
import sys
import wave
from pathlib import Path

SAFE_ID = re.compile(r"[^0-9A-Za-z._-]")


def _safe(call_id: str) -> str:
    return SAFE_ID.sub("_", call_id)


def intake_path(recordings_dir: str, call_id: str) -> str:
    """The caller's own description, recorded by the IVR (no extension: Asterisk adds it)."""
    return f"{recordings_dir}/{_safe(call_id)}-intake"


def conversation_path(recordings_dir: str, call_id: str) -> str:
    """MixMonitor's mixed file of the whole conversation (with extension)."""
    return f"{recordings_dir}/{_safe(call_id)}-call.wav"


def track_path(recordings_dir: str, call_id: str, side: str) -> str:
    """One direction of the conversation (with extension): ``caller``, what the caller said; ``agent``,
    what the caller heard (the agent, and a department or 110 in a three-way call); ``department``, each
    number an agent dialled for the call, recorded on its own channel (what it said, mixed with what it
    heard when Asterisk delivers that direction to the recording)."""
    return f"{recordings_dir}/{_safe(call_id)}-call-{side}.wav"


def kept_path(recordings_dir: str, call_id: str, kind: str) -> str:
    """A recording the register keeps that no MixMonitor made (a voicemail, by its message's id)."""
    return f"{recordings_dir}/{_safe(call_id)}-{kind}.wav"


def mixmonitor_argument(recordings_dir: str, call_id: str) -> str:
    """MixMonitor on the caller's channel: the mixed conversation, and each direction apart (双轨), so a
    reviewer hears who said what and speech-to-text gets one voice at a time."""
    caller = track_path(recordings_dir, call_id, "caller")
    agent = track_path(recordings_dir, call_id, "agent")
    return f"{conversation_path(recordings_dir, call_id)},r({caller})t({agent})"


def rms_dbfs(path: Path) -> float:
    """Loudness of a 16-bit PCM WAV file in dBFS; -inf for digital silence."""
    with wave.open(str(path), "rb") as audio:
        if audio.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM is measured")
        samples = array.array("h", audio.readframes(audio.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    if not samples:
        return float("-inf")
    mean_square = sum(s * s for s in samples) / len(samples)
    return 10 * math.log10(mean_square / 32768**2) if mean_square else float("-inf")


def duration_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as audio:
        return audio.getnframes() / audio.getframerate()
