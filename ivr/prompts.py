"""The IVR's spoken prompts: Chinese text, synthesised as a stand-in for recorded files.

A deployment can replace any file with a studio recording of the same name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

PROMPTS: dict[str, str] = {
    "greeting": (
        "您好，欢迎致电12345政务服务便民热线。"
        "如遇火警、匪警、急救等紧急情况，请挂机拨打119、110或120。普通话服务请按1。"
    ),
    "describe": "请在提示音后简要说明您的诉求，说完请按井号键。",
    "connecting": "正在为您转接坐席，请稍候。",
    "fallback": "您好，这里是12345政务服务便民热线，正在为您转接坐席，请稍候。",
    "voicemail": "坐席正忙，请在提示音后留言，说完请挂机，我们会尽快回复您。",
}

RunCommand = Callable[[list[str]], None]
# Bump when the synthesis settings change, so cached prompts are made again.
SPEECH_VERSION = "espeak-ng cmn 180wpm 8k"


def prompt_path(prompts_dir: str, name: str) -> str:
    """Where Asterisk finds a prompt (no extension)."""
    if name not in PROMPTS:
        raise KeyError(f"unknown prompt {name!r}")
    return f"{prompts_dir}/{name}"


def speech_name(text: str) -> str:
    """A stable file name for a spoken text, so it is synthesised once."""
    return "say-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def synthesize(text: str, target: str, run: RunCommand, voice: str = "cmn") -> None:
    """Speak ``text`` into ``target.wav`` as 8 kHz mono 16-bit, where Asterisk can play it.

    ``run`` executes a command where Asterisk's files are (in the lab, inside the chroot).
    """
    raw = f"{target}.espeak.wav"
    run(["espeak-ng", "-v", voice, "-s", "180", "-w", raw, text])
    run(["sox", raw, "-r", "8000", "-c", "1", "-b", "16", f"{target}.wav"])
    run(["rm", "-f", raw])
