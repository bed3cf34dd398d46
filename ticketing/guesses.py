"""What a citizen's words suggest, whatever the channel they came by: pure, no I/O but the keywords file.

The same guesses fill the agent's draft of a call (from the caller's words, as
speech-to-text heard them) and a message's ticket (an email, an SMS, a WeChat
message, a voicemail's transcript): the type from keywords, the category from
its words (the deployment's, or those its name lists), the region from the
places named (cut into words by jieba, so 董市长 is a mayor, not 董市镇), phone
numbers and dates spotted in the text, and the emergency that words such as
着火, 救命, 打人 point to. Every guess is named as one for a person to confirm.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import tomllib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from hotline.ticketing.vocabulary import TicketType
from hotline.ticketing.workflow import Intake

#: Mainland mobiles and landlines with an area code, as people say them (spaces and dashes allowed).
PHONE = re.compile(r"(?<!\d)(1[3-9]\d(?:[ -]?\d){8}|0\d{2,3}[ -]?\d{7,8})(?!\d)")
DATE = re.compile(r"(?:\d{4}年)?\d{1,2}月\d{1,2}[日号]|今天|昨天|前天|上周|上个月")
#: The words a category's name lists: "环境保护（油烟、噪声、污染）" → 环境保护 油烟 噪声 污染.
NAME_WORDS = re.compile(r"[^（）()、，,与和\s]{2,}")
#: What a place may be said without: 马家店街道 → 马家店, 七星台镇 → 七星台.
PLACE_SUFFIXES = ("街道", "社区", "居委会", "村委会", "开发区", "镇", "乡", "村", "区", "县", "市")
#: What the words mention, kept on a message's ticket as they were spotted.
MENTIONS = ("places_mentioned", "phones_mentioned", "dates_mentioned", "emergency")


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
    #: A category's own words, by its code, in place of those its name lists.
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


DEFAULT_KEYWORDS = Keywords()
EMERGENCY_NUMBERS = ("110", "119", "120", "122")


class KeywordsError(ValueError):
    """The keywords file is malformed; the message names the entry."""


def load_keywords(path: Path) -> Keywords:
    """A deployment's own words (the city's dialect, its usual matters), replacing the built-in lists.

    ``[types]`` maps a ticket type (consult, complaint, report, help, suggestion, praise) to its words,
    ``[emergency]`` an emergency number (110, 119, 120, 122) to its words, ``[categories]`` a category's
    code to its words (a category left out keeps the words its name lists); a table left out keeps the
    built-in one.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KeywordsError(f"{path}: {exc}") from None

    def table(name: str, allowed: tuple[str, ...] | None) -> dict[str, tuple[str, ...]] | None:
        if name not in data:
            return None
        entries = data[name]
        if not isinstance(entries, dict):
            raise KeywordsError(f"{path}: [{name}] must be a table")
        for key, words in entries.items():
            if allowed is not None and key not in allowed:
                raise KeywordsError(f"{path}: {name}.{key} is not one of {', '.join(allowed)}")
            if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
                raise KeywordsError(f"{path}: {name}.{key} must be a list of words")
        return {key: tuple(words) for key, words in entries.items()}

    types = table("types", tuple(t.value for t in TicketType if t != TicketType.OTHER))
    emergency = table("emergency", EMERGENCY_NUMBERS)
    categories = table("categories", None)  # the directory's codes: unknown ones are never guessed
    return Keywords(
        types=DEFAULT_KEYWORDS.types if types is None else types,
        emergency=DEFAULT_KEYWORDS.emergency if emergency is None else emergency,
        categories=categories or {},
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


def phones_in(text: str) -> list[str]:
    """The phone numbers said, digits only, each once, in order."""
    return list(dict.fromkeys(re.sub(r"[ -]", "", phone) for phone in PHONE.findall(text)))


def _said_as(name: str) -> set[str]:
    suffix = next((suffix for suffix in PLACE_SUFFIXES if name.endswith(suffix)), "")
    short = name[: -len(suffix)] if suffix else ""
    return {name, short} if len(short) >= 2 else {name}


@cache
def _dictionary() -> tuple[dict[str, int], int]:
    """jieba's dictionary, loaded once a process (about half a second of CPU), not once a gazetteer: a
    desk makes a gazetteer each time it starts or its directory changes. Its words and their total."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    loaded = jieba.Tokenizer()
    loaded.initialize()
    return loaded.FREQ, loaded.total


@dataclass(frozen=True)
class Gazetteer:
    """The directory as callers speak it: each category's words, each region's names."""

    categories: Mapping[str, tuple[str, ...]]  # a leaf category's code → its words
    places: Mapping[str, tuple[str, int]]  # a name as said → (region code, level)

    @classmethod
    def of(
        cls,
        categories: Iterable[Mapping[str, Any]],
        regions: Iterable[Mapping[str, Any]],
        own_words: Mapping[str, tuple[str, ...]] | None = None,
    ) -> Gazetteer:
        """From the directory's trees (``code``, ``name``, ``parent``; a region's ``level``); a ticket
        takes a leaf category, so only leaves are guessed, each by its own words or its name's."""
        categories = list(categories)
        parents = {category["parent"] for category in categories}
        words = {
            category["code"]: (own_words or {}).get(category["code"])
            or tuple(NAME_WORDS.findall(category["name"]))
            for category in categories
            if category["code"] not in parents
        }
        places: dict[str, tuple[str, int]] = {}
        for region in sorted(regions, key=lambda region: region["level"]):  # the deeper name wins
            for said in _said_as(region["name"]):
                places[said] = (region["code"], region["level"])
        return cls(words, places)

    @cached_property
    def _cutter(self) -> Any:
        """jieba, taught the places' names, on a copy of the dictionary (each gazetteer its own words)."""
        import jieba

        cutter = jieba.Tokenizer()
        words, total = _dictionary()
        cutter.FREQ, cutter.total, cutter.initialized = dict(words), total, True
        for name in self.places:
            cutter.add_word(name)
        return cutter

    def warm(self) -> None:
        self._cutter.lcut("")

    def category(self, text: str) -> str:
        """The category whose words appear most (the first listed, on a tie); "" if none."""
        counts = {code: sum(text.count(word) for word in words) for code, words in self.categories.items()}
        best = max(counts, key=lambda code: counts[code], default="")
        return best if best and counts[best] else ""

    def named_places(self, text: str) -> list[str]:
        """The places named, as said, in order."""
        return [word for word in dict.fromkeys(self._cutter.lcut(text)) if word in self.places]

    def region(self, places: Iterable[str]) -> str:
        """The most specific region among the places named."""
        found = [self.places[place] for place in places]
        return max(found, key=lambda region: region[1])[0] if found else ""


def guess(
    text: str, keywords: Keywords = DEFAULT_KEYWORDS, gazetteer: Gazetteer | None = None
) -> dict[str, Any]:
    """What the text suggests, each by the name of the draft's field, only what was found: ``type``,
    ``category``, ``region`` and ``places_mentioned`` (with a ``gazetteer``: jieba's cut, CPU work to
    run off the event loop), ``phones_mentioned``, ``dates_mentioned``, ``emergency``."""
    found: dict[str, Any] = {}
    if kind := guess_type(text, keywords):
        found["type"] = kind
    if gazetteer is not None:
        if category := gazetteer.category(text):
            found["category"] = category
        if places := gazetteer.named_places(text):
            found["region"] = gazetteer.region(places)
            found["places_mentioned"] = places
    if phones := phones_in(text):
        found["phones_mentioned"] = phones
    if dates := [m.group(0) for m in DATE.finditer(text)]:
        found["dates_mentioned"] = dates
    if emergency := emergency_in(text, keywords):
        found["emergency"] = {"number": emergency.number, "words": list(emergency.words)}
    return found


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def on_intake(intake: Intake, guesses: Mapping[str, Any], unsaid: Collection[str]) -> Intake:
    """A message's intake with what its words suggest (``guess``): the type, category, region and
    caller's phone where the sender left them ``unsaid`` (what a gateway or a person said wins), and
    what the words mention; ``guessed`` names each field so filled, for the agent or the platform to
    confirm. The caller's own number, once known, is no mention."""
    filled: dict[str, Any] = {}
    for name, said_as in (("ticket_type", "type"), ("category", "category"), ("region", "region")):
        if name in unsaid and said_as in guesses:
            filled[name] = TicketType(guesses[said_as]) if name == "ticket_type" else guesses[said_as]
    mentioned = {name: guesses[name] for name in MENTIONS if guesses.get(name)}
    phones = mentioned.pop("phones_mentioned", ())
    if "caller_phone" in unsaid and phones:
        filled["caller_phone"] = phones[0]
        if not intake.callback_phone:
            filled["callback_phone"] = phones[0]
    if own := _digits(filled.get("caller_phone", intake.caller_phone)):
        phones = [phone for phone in phones if _digits(phone) != own]
    if phones:
        mentioned["phones_mentioned"] = phones
    values = filled | {
        name: value if name == "emergency" else tuple(value) for name, value in mentioned.items()
    }
    guessed = [name for name in (*filled, *MENTIONS) if name in values]
    return dataclasses.replace(intake, **values, guessed=tuple(guessed))
