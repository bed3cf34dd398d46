"""One deployment's IVR: the greeting's keys, the exits while waiting, and where each line queues.

Read from a TOML preset (``ivr/menus/*.toml``) or a file's path. Pure: the
FastAGI flow asks it what a key means and which skill a call waits for.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.acd.engine import Priority
from hotline.trunks.numbers import MAIN_NUMBER

MENUS_DIR = Path(__file__).parent / "menus"
KEYS = "0123456789*#"


class MenuError(ValueError):
    """The IVR file is malformed; the message names the field."""


@dataclass(frozen=True)
class Option:
    key: str
    label: str
    skill: str = ""
    overflow_after: float = 20.0
    priority: Priority = Priority.NORMAL


@dataclass(frozen=True)
class QueueRoute:
    """What the ACD needs to queue a call."""

    skill: str
    overflow_skill: str = ""
    overflow_after: float | None = None
    priority: Priority = Priority.NORMAL


@dataclass(frozen=True)
class Menu:
    emergency_key: str = "0"
    emergency_number: str = "110"
    callback_key: str = "1"
    voicemail_key: str = "2"
    announce_every: float = 45.0
    abandoned_callback_after: float = 10.0
    kept_line_overflow_after: float = 30.0
    options: dict[str, Option] = field(default_factory=dict)
    #: Callers (as the carrier presents them) who hand a caller back, e.g. 110 (110-12345 联动):
    #: no greeting, no description, first in the queue.
    handover_callers: tuple[str, ...] = ()
    #: After the agent hangs up, the caller rates the service with one key (满意/基本满意/不满意).
    survey: bool = False
    survey_wait: float = 6.0

    def greeting(self) -> str:
        """The greeting's text, keys included, for the speech synthesiser."""
        offered = "，".join(f"{o.label}请按{o.key}" for o in self.options.values())
        return (
            "您好，欢迎致电12345政务服务便民热线。"
            f"如遇匪警、火警、急救等紧急情况，转接{self.emergency_number}请按{self.emergency_key}，"
            "或挂机拨打110、119、120。" + (f"{offered}，其他诉求请稍候。" if offered else "")
        )

    @property
    def keyed(self) -> bool:
        """Whether the greeting offers options, and so waits a moment for a key after it."""
        return bool(self.options)

    def waiting_exits(self) -> str:
        return (
            f"如需挂机等待回拨并保留排队顺序，请按{self.callback_key}；如需留言，请按{self.voicemail_key}。"
        )

    def route(self, line: str, key: str) -> QueueRoute:
        """A kept number waits for its own seats, then 12345's; an option's skill likewise."""
        if line != MAIN_NUMBER:
            return QueueRoute(line, MAIN_NUMBER, self.kept_line_overflow_after)
        option = self.options.get(key)
        if option is None:
            return QueueRoute(MAIN_NUMBER)
        if option.skill:
            return QueueRoute(option.skill, MAIN_NUMBER, option.overflow_after, option.priority)
        return QueueRoute(MAIN_NUMBER, priority=option.priority)


def load_menu(spec: str) -> Menu:
    """A preset's name (``no-menu``, the default; ``keyed``) or a TOML file's path."""
    path = MENUS_DIR / f"{spec}.toml" if "/" not in spec and not spec.endswith(".toml") else Path(spec)
    if not path.is_file():
        presets = ", ".join(sorted(p.stem for p in MENUS_DIR.glob("*.toml")))
        raise MenuError(f"no IVR menu {spec!r}: give a preset ({presets}) or a .toml file's path")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MenuError(f"{path}: {exc}") from None
    return parse_menu(data, str(path))


def parse_menu(data: dict[str, Any], where: str = "menu") -> Menu:
    def key(name: str, default: str) -> str:
        value = str(data.get(name, default))
        if len(value) != 1 or value not in KEYS:
            raise MenuError(f"{where}: {name} must be one key of 0-9 * #, got {value!r}")
        return value

    def seconds(table: dict[str, Any], name: str, default: float, label: str) -> float:
        value = table.get(name, default)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise MenuError(f"{where}: {label} must be a number of seconds ≥ 0, got {value!r}")
        return float(value)

    number = str(data.get("emergency_number", "110"))
    if not number.isdigit():
        raise MenuError(f"{where}: emergency_number must be digits, got {number!r}")
    menu = Menu(
        emergency_key=key("emergency_key", "0"),
        emergency_number=number,
        callback_key=key("callback_key", "1"),
        voicemail_key=key("voicemail_key", "2"),
        announce_every=seconds(data, "announce_every", 45, "announce_every"),
        abandoned_callback_after=seconds(data, "abandoned_callback_after", 10, "abandoned_callback_after"),
        kept_line_overflow_after=seconds(data.get("lines", {}), "overflow_after", 30, "lines.overflow_after"),
        options={k: _option(k, v, where, seconds) for k, v in data.get("options", {}).items()},
        handover_callers=_numbers(data.get("handover_callers", []), f"{where}: handover_callers"),
        survey=_flag(data, "survey", where),
        survey_wait=seconds(data, "survey_wait", 6, "survey_wait"),
    )
    if menu.announce_every < 5:
        raise MenuError(f"{where}: announce_every must be at least 5 seconds, got {menu.announce_every:g}")
    if menu.callback_key == menu.voicemail_key:
        raise MenuError(f"{where}: callback_key and voicemail_key must differ")
    if menu.emergency_key in menu.options:
        raise MenuError(f"{where}: options.{menu.emergency_key} is the emergency key")
    return menu


def _flag(data: dict[str, Any], name: str, where: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise MenuError(f"{where}: {name} must be true or false, got {value!r}")
    return value


def _numbers(value: Any, label: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(n, str) and n.isdigit() for n in value):
        raise MenuError(f'{label} must be a list of numbers in quotes, e.g. ["110"], got {value!r}')
    return tuple(value)


def _option(key: str, table: Any, where: str, seconds: Any) -> Option:
    label = f"options.{key}"
    if len(key) != 1 or key not in KEYS:
        raise MenuError(f"{where}: {label}: an option is one key of 0-9 * #")
    if not isinstance(table, dict) or not str(table.get("label", "")).strip():
        raise MenuError(f"{where}: {label} needs a label (what the greeting says)")
    priority = str(table.get("priority", "normal"))
    try:
        level = Priority[priority.upper()]
    except KeyError:
        names = ", ".join(p.name.lower() for p in Priority)
        raise MenuError(f"{where}: {label}.priority must be one of {names}, got {priority!r}") from None
    return Option(
        key=key,
        label=str(table["label"]).strip(),
        skill=str(table.get("skill", "")),
        overflow_after=seconds(table, "overflow_after", 20, f"{label}.overflow_after"),
        priority=level,
    )
