"""The IVR's spoken prompts: Chinese text, synthesised as a stand-in for recorded files.

A deployment can replace any file with a studio recording of the same name.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable

from hotline.ivr.menu import Menu

FIXED_PROMPTS: dict[str, str] = {
    "describe": "请在提示音后简要说明您的诉求，说完请按井号键。",
    "connecting": "正在为您转接坐席，请稍候。",
    "fallback": "您好，这里是12345政务服务便民热线，正在为您转接坐席，请稍候。",
    "voicemail": "坐席正忙，请在提示音后留言，最长三分钟，说完请按井号键或挂机，我们会尽快回复您。",
    "night": (
        "您好，现在是非工作时间，请在提示音后留言，最长三分钟，说完请按井号键或挂机，我们将在上班后尽快回复您。"
    ),
    "emergency": "正在为您转接紧急求助电话，请不要挂机。",
    "survey": "请对本次服务进行评价：满意请按1，基本满意请按2，不满意请按3。",
    "survey-thanks": "感谢您的评价，再见。",
    "callback-taken": "已为您登记回拨，您的排队顺序保持不变，轮到您时坐席将主动回拨，请保持电话畅通。再见。",
    "callback-refused": "您的号码无法回拨，请继续等待或按键留言。",
    "agent-ready": "已签入，就绪。",
    "agent-break": "已小休。",
    "agent-wrap-up": "话后处理中，完成后请按就绪。",
    "agent-logged-out": "已签出。",
    "agent-refused": "操作未成功，请在坐席页面查看原因。",
    "agent-dial": "好的，稍后话机响铃，接听后为您拨通。",
}
#: Position and expected-wait announcements come as whole sentences up to these figures.
MAX_AHEAD = 20
MAX_WAIT_MINUTES = 30


def prompt_texts(menu: Menu) -> dict[str, str]:
    """Every prompt this deployment plays, by file name: the fixed ones, the menu's, the counts."""
    texts = {**FIXED_PROMPTS, "greeting": menu.greeting(), "queue-exits": menu.waiting_exits()}
    texts["ahead-0"] = "您是下一位。"
    texts.update({f"ahead-{n}": f"您前面还有{n}位来电。" for n in range(1, MAX_AHEAD + 1)})
    texts["ahead-more"] = f"您前面还有{MAX_AHEAD}位以上来电。"
    texts.update({f"wait-{n}": f"预计等待{n}分钟。" for n in range(1, MAX_WAIT_MINUTES + 1)})
    texts["wait-more"] = f"预计等待{MAX_WAIT_MINUTES}分钟以上。"
    return texts


def position_prompts(ahead: int, wait_seconds: float) -> list[str]:
    """The prompt names that tell a caller their place and wait (whole minutes, rounded up)."""
    minutes = max(1, math.ceil(wait_seconds / 60))
    return [
        f"ahead-{ahead}" if ahead <= MAX_AHEAD else "ahead-more",
        f"wait-{minutes}" if minutes <= MAX_WAIT_MINUTES else "wait-more",
    ]


KNOWN_NAME = re.compile(r"greeting|queue-exits|ahead-(\d+|more)|wait-(\d+|more)")
RunCommand = Callable[[list[str]], None]
# Bump when the synthesis settings change, so cached prompts are made again.
SPEECH_VERSION = "espeak-ng cmn 180wpm 8k"


def prompt_path(prompts_dir: str, name: str) -> str:
    """Where Asterisk finds a prompt (no extension)."""
    if name not in FIXED_PROMPTS and not KNOWN_NAME.fullmatch(name):
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
