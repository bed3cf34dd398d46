"""The ticket draft pre-filled from the caller's words (speech-to-text): pure, no I/O.

Every field filled here is a guess, listed in the draft's ``guessed`` for the
agent to confirm or change: the type from keywords, phone numbers and dates
spotted in the text. Emergency words (着火, 救命, 打人 …) name the number to hand
the caller to, and raise an alert before any agent answers.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ticketing.vocabulary import TicketType

#: Mainland mobiles and landlines with an area code, as people say them (spaces and dashes allowed).
PHONE = re.compile(r"(?<!\d)(1[3-9]\d(?:[ -]?\d){8}|0\d{2,3}[ -]?\d{7,8})(?!\d)")
DATE = re.compile(r"(?:\d{4}年)?\d{1,2}月\d{1,2}[日号]|今天|昨天|前天|上周|上个月")


@dataclass(frozen=True)
class Keywords:
    """Which words suggest which ticket type, and which emergencies (by the number that answers them)."""

    types: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            TicketType.REPORT.value: ("举报", "违法", "偷排", "非法", "黑车"),
            TicketType.COMPLAINT.value: ("投诉", "扰民", "太吵", "噪音", "油烟", "乱收费", "不作为", "拖欠"),
            TicketType.HELP.value: ("求助", "帮帮", "帮忙", "救助", "困难", "没人管"),
            TicketType.SUGGESTION.value: ("建议", "希望能", "能不能增加"),
            TicketType.PRAISE.value: ("表扬", "感谢", "谢谢你们"),
            TicketType.CONSULT.value: ("咨询", "请问", "怎么办理", "如何办理", "需要什么材料"),
        }
    )
    emergency: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            "119": ("着火", "失火", "火灾", "冒烟", "煤气", "燃气泄漏", "爆炸"),
            "120": ("救命", "晕倒", "昏迷", "不省人事", "流血", "心脏病"),
            "110": ("打人", "抢劫", "杀人", "绑架", "持刀", "车祸", "打架"),
        }
    )


DEFAULT_KEYWORDS = Keywords()
EMERGENCY_NUMBERS = ("110", "119", "120", "122")


class KeywordsError(ValueError):
    """The keywords file is malformed; the message names the entry."""


def load_keywords(path: Path) -> Keywords:
    """A deployment's own words (the city's dialect, its usual matters), replacing the built-in lists.

    ``[types]`` maps a ticket type (consult, complaint, report, help, suggestion, praise) to its words,
    ``[emergency]`` an emergency number (110, 119, 120, 122) to its words; a table left out keeps the
    built-in one.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KeywordsError(f"{path}: {exc}") from None

    def table(name: str, allowed: tuple[str, ...]) -> dict[str, tuple[str, ...]] | None:
        if name not in data:
            return None
        entries = data[name]
        if not isinstance(entries, dict):
            raise KeywordsError(f"{path}: [{name}] must be a table")
        for key, words in entries.items():
            if key not in allowed:
                raise KeywordsError(f"{path}: {name}.{key} is not one of {', '.join(allowed)}")
            if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
                raise KeywordsError(f"{path}: {name}.{key} must be a list of words")
        return {key: tuple(words) for key, words in entries.items()}

    types = table("types", tuple(t.value for t in TicketType if t != TicketType.OTHER))
    emergency = table("emergency", EMERGENCY_NUMBERS)
    return Keywords(
        types=DEFAULT_KEYWORDS.types if types is None else types,
        emergency=DEFAULT_KEYWORDS.emergency if emergency is None else emergency,
    )


@dataclass(frozen=True)
class Emergency:
    number: str
    words: tuple[str, ...]


def emergency_in(text: str, keywords: Keywords = DEFAULT_KEYWORDS) -> Emergency | None:
    """The emergency the words point to (the one with most words heard), or None."""
    heard = {number: tuple(w for w in words if w in text) for number, words in keywords.emergency.items()}
    number = max(heard, key=lambda n: len(heard[n]), default="")
    return Emergency(number, heard[number]) if number and heard[number] else None


def guess_type(text: str, keywords: Keywords = DEFAULT_KEYWORDS) -> str:
    """The type whose words appear most (report before complaint before help, on a tie); "" if none."""
    counts = {kind: sum(text.count(word) for word in words) for kind, words in keywords.types.items()}
    best = max(counts, key=lambda kind: counts[kind], default="")
    return best if best and counts[best] else ""


def prefill(text: str, keywords: Keywords = DEFAULT_KEYWORDS) -> dict[str, Any]:
    """The draft fields guessed from the text, with ``guessed`` naming each one."""
    fields: dict[str, Any] = {"description": text}
    if kind := guess_type(text, keywords):
        fields["type"] = kind
    if phones := [re.sub(r"[ -]", "", p) for p in PHONE.findall(text)]:
        fields["phones_mentioned"] = phones
    if dates := [m.group(0) for m in DATE.finditer(text)]:
        fields["dates_mentioned"] = dates
    if emergency := emergency_in(text, keywords):
        fields["emergency"] = {"number": emergency.number, "words": list(emergency.words)}
    fields["guessed"] = [name for name in fields if name != "emergency"]
    return fields
