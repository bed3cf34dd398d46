"""A city's deadline rules, read from a TOML file: presets from the seeds, or the administrator's own.

Durations are written ``5wd`` (working days), ``2wh`` (working hours of the
service day) or ``2h`` (clock hours, for emergencies that do not wait for
Monday). Every deadline is computed here from a policy, a calendar and the
moment its clock starts; nothing here reads a clock or a file but ``load_policy``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.ticketing.calendar import (
    AnsweringHours,
    CalendarError,
    Deadline,
    ServiceDay,
    WorkCalendar,
    parse_clock,
)
from hotline.ticketing.vocabulary import TicketType

PRESETS_DIR = Path(__file__).with_name("policies")


class PolicyError(ValueError):
    """The policy file is malformed; the message names the field."""


@dataclass(frozen=True)
class Duration:
    amount: float
    unit: str

    @classmethod
    def parse(cls, text: str, where: str) -> Duration:
        text = str(text).strip()
        for suffix in ("wd", "wh", "h"):
            if text.endswith(suffix):
                try:
                    amount = float(text.removesuffix(suffix))
                except ValueError:
                    break
                if amount < 0:
                    break
                return cls(amount, suffix)
        raise PolicyError(f"{where}: expected a duration like 5wd, 2wh or 2h, got {text!r}")

    def after(self, start: datetime, calendar: WorkCalendar) -> Deadline:
        if self.unit == "wd":
            return calendar.add_working_days(start, self.amount)
        if self.unit == "wh":
            return calendar.add_working_hours(start, self.amount)
        return Deadline(start + timedelta(hours=self.amount))

    def before(self, end: datetime, calendar: WorkCalendar) -> datetime:
        """The moment this long before ``end``: the inverse of ``after``."""
        if self.unit == "h":
            return end - timedelta(hours=self.amount)
        hours = self.amount * calendar.service_day.hours if self.unit == "wd" else self.amount
        return calendar.subtract_working_hours(end, hours)

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount == int(self.amount) else self.amount
        return f"{amount}{self.unit}"


@dataclass(frozen=True)
class DispatchRule:
    """Yunnan's rule: accepted before ``cutoff`` → dispatched that day, else next day by ``next_day_by``."""

    cutoff: time
    same_day_by: time
    next_day_by: time

    def due(self, accepted: datetime) -> Deadline:
        if accepted.time() < self.cutoff:
            return Deadline(datetime.combine(accepted.date(), self.same_day_by, accepted.tzinfo))
        next_day = accepted.date() + timedelta(days=1)
        return Deadline(datetime.combine(next_day, self.next_day_by, accepted.tzinfo))


#: The days each kind of recording is kept unless the policy says otherwise (six months).
RECORDING_RETENTION = {
    "conversation": 180,
    "caller_track": 180,
    "agent_track": 180,
    "department_track": 180,
    "intake": 180,
    "voicemail": 365,
}


@dataclass(frozen=True)
class Attention:
    """When the platform acts on its own: reminders (催办), supervision (督办) and hot items (重点).

    Yingkou lists 重点类 as 多人反映或多次反映的事项: ``hot_reporters`` different
    callers, or one caller ``hot_repeats`` times, about the same topic and place
    within ``hot_window_days``.
    """

    remind_before: Duration = Duration(1, "wd")
    supervise_overdue: bool = True
    hot_reporters: int = 3
    hot_repeats: int = 3
    hot_window_days: int = 7


@dataclass(frozen=True)
class Policy:
    name: str
    title: str
    timezone: ZoneInfo
    service_day: ServiceDay
    answering: str
    sign: Duration
    return_window: Duration
    return_from: str
    handling_default: Duration
    handling_complex: Duration
    extension_max: int
    extension_length: Duration | None
    extension_request_before: Duration
    urgent_onsite: Duration
    urgent_reply: Duration
    handling_by_type: dict[TicketType, Duration] = field(default_factory=dict)
    dispatch: DispatchRule | None = None
    callback: Duration | None = None
    attention: Attention = Attention()
    #: GB/T 33358: a request left in the mailbox (email, voicemail) is answered within 24 hours.
    mailbox_response: Duration = Duration(24, "h")
    #: Days a call's recordings are kept, by kind (recordings/shelf.py purges older ones not on hold).
    recording_retention: Mapping[str, int] = field(default_factory=lambda: dict(RECORDING_RETENTION))

    def handling(self, ticket_type: TicketType, *, complex_case: bool, urgent: bool) -> Duration:
        if urgent:
            return self.urgent_reply
        if complex_case:
            return self.handling_complex
        return self.handling_by_type.get(ticket_type, self.handling_default)

    @property
    def answering_hours(self) -> AnsweringHours:
        return AnsweringHours.parse(self.answering)

    def extension_for(self, handling: Duration) -> Duration:
        return self.extension_length or handling

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "timezone": str(self.timezone),
            "service_day": f"{self.service_day.start:%H:%M}-{self.service_day.end:%H:%M}",
            "answering": self.answering,
            "dispatch": None
            if self.dispatch is None
            else {
                "cutoff": f"{self.dispatch.cutoff:%H:%M}",
                "same_day_by": f"{self.dispatch.same_day_by:%H:%M}",
                "next_day_by": f"{self.dispatch.next_day_by:%H:%M}",
            },
            "sign": str(self.sign),
            "return_window": str(self.return_window),
            "return_from": self.return_from,
            "callback": None if self.callback is None else str(self.callback),
            "urgent_onsite": str(self.urgent_onsite),
            "urgent_reply": str(self.urgent_reply),
            "mailbox_response": str(self.mailbox_response),
            "retention": dict(self.recording_retention),
            "handling": {
                "default": str(self.handling_default),
                "complex": str(self.handling_complex),
                "by_type": {t.value: str(d) for t, d in self.handling_by_type.items()},
            },
            "extension": {
                "max_count": self.extension_max,
                "length": "same" if self.extension_length is None else str(self.extension_length),
                "request_before": str(self.extension_request_before),
            },
            "attention": {
                "remind_before": str(self.attention.remind_before),
                "supervise_overdue": self.attention.supervise_overdue,
                "hot_reporters": self.attention.hot_reporters,
                "hot_repeats": self.attention.hot_repeats,
                "hot_window_days": self.attention.hot_window_days,
            },
        }


def preset_names() -> list[str]:
    return sorted(path.stem for path in PRESETS_DIR.glob("*.toml"))


def load_policy(name_or_path: str) -> Policy:
    """A preset by name (``zhijiang``) or a TOML file by path."""
    path = PRESETS_DIR / f"{name_or_path}.toml"
    if not path.exists():
        path = Path(name_or_path)
        if not path.exists():
            raise PolicyError(
                f"no policy preset or file {name_or_path!r}; presets: {', '.join(preset_names())}"
            )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: {exc}") from None
    return parse_policy(data, str(path))


def parse_policy(data: dict[str, Any], where: str = "policy") -> Policy:
    def section(name: str) -> dict[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise PolicyError(f"{where}: [{name}] must be a table")
        return value

    def required(table: dict[str, Any], key: str, label: str) -> Any:
        if key not in table:
            raise PolicyError(f"{where}: {label} is missing")
        return table[key]

    deadlines, handling, extension = section("deadlines"), section("handling"), section("extension")
    attention = _attention(section("attention"), where)
    try:
        timezone = ZoneInfo(str(data.get("timezone", "Asia/Shanghai")))
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"{where}: unknown timezone {data.get('timezone')!r}") from None
    try:
        service_day = ServiceDay.parse(str(data.get("service_day", "08:30-17:30")))
        dispatch = None
        if "dispatch" in data:
            rule = section("dispatch")
            dispatch = DispatchRule(
                parse_clock(str(required(rule, "cutoff", "dispatch.cutoff"))),
                parse_clock(str(rule.get("same_day_by", "23:59"))),
                parse_clock(str(required(rule, "next_day_by", "dispatch.next_day_by"))),
            )
    except CalendarError as exc:
        raise PolicyError(f"{where}: {exc}") from None

    def duration(table: dict[str, Any], key: str, label: str) -> Duration:
        return Duration.parse(required(table, key, label), label)

    by_type = {}
    for key, value in dict(handling.get("by_type", {})).items():
        try:
            ticket_type = TicketType.parse(key)
        except ValueError as exc:
            raise PolicyError(f"{where}: handling.by_type: {exc}") from None
        by_type[ticket_type] = Duration.parse(value, f"handling.by_type.{key}")
    return_from = str(deadlines.get("return_from", "dispatch"))
    if return_from not in ("dispatch", "sign"):
        raise PolicyError(f"{where}: deadlines.return_from must be 'dispatch' or 'sign', got {return_from!r}")
    max_count = extension.get("max_count", 1)
    if not isinstance(max_count, int) or max_count < 0:
        raise PolicyError(f"{where}: extension.max_count must be a whole number ≥ 0, got {max_count!r}")
    length = extension.get("length", "same")
    answering = str(data.get("answering", "7x24"))
    try:
        AnsweringHours.parse(answering)
    except CalendarError:
        raise PolicyError(
            f"{where}: answering must be 7x24, HH:MM-HH:MM or workdays HH:MM-HH:MM, got {answering!r}"
        ) from None
    return Policy(
        name=str(data.get("name", Path(where).stem)),
        title=str(data.get("title", "")),
        timezone=timezone,
        service_day=service_day,
        answering=answering,
        sign=duration(deadlines, "sign", "deadlines.sign"),
        return_window=duration(deadlines, "return_window", "deadlines.return_window"),
        return_from=return_from,
        handling_default=duration(handling, "default", "handling.default"),
        handling_complex=duration(handling, "complex", "handling.complex"),
        handling_by_type=by_type,
        extension_max=max_count,
        extension_length=None if length == "same" else Duration.parse(length, "extension.length"),
        extension_request_before=Duration.parse(
            extension.get("request_before", "0wd"), "extension.request_before"
        ),
        urgent_onsite=Duration.parse(deadlines.get("urgent_onsite", "2h"), "deadlines.urgent_onsite"),
        urgent_reply=Duration.parse(deadlines.get("urgent_reply", "2wd"), "deadlines.urgent_reply"),
        dispatch=dispatch,
        callback=None
        if "callback" not in deadlines
        else duration(deadlines, "callback", "deadlines.callback"),
        attention=attention,
        recording_retention=_retention(section("retention"), where),
        mailbox_response=Duration.parse(
            deadlines.get("mailbox_response", "24h"), "deadlines.mailbox_response"
        ),
    )


def _retention(table: dict[str, Any], where: str) -> dict[str, int]:
    kept = dict(RECORDING_RETENTION)
    for kind, days in table.items():
        if kind not in RECORDING_RETENTION:
            raise PolicyError(f"{where}: retention.{kind} is not one of {', '.join(RECORDING_RETENTION)}")
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise PolicyError(f"{where}: retention.{kind} must be a whole number of days ≥ 1, got {days!r}")
        kept[kind] = days
    return kept


def _attention(table: dict[str, Any], where: str) -> Attention:
    def count(key: str, default: int) -> int:
        value = table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise PolicyError(f"{where}: attention.{key} must be a whole number ≥ 1, got {value!r}")
        return value

    supervise = table.get("supervise_overdue", True)
    if not isinstance(supervise, bool):
        raise PolicyError(f"{where}: attention.supervise_overdue must be true or false, got {supervise!r}")
    return Attention(
        remind_before=Duration.parse(table.get("remind_before", "1wd"), "attention.remind_before"),
        supervise_overdue=supervise,
        hot_reporters=count("hot_reporters", 3),
        hot_repeats=count("hot_repeats", 3),
        hot_window_days=count("hot_window_days", 7),
    )


@dataclass(frozen=True)
class DeadlinePlan:
    """Every deadline one ticket would get, for ``hotline policy deadline``."""

    accepted: datetime
    dispatch: Deadline | None
    sign: Deadline
    return_window: Deadline
    handling: Deadline
    onsite: Deadline | None
    extension_request_by: Deadline
    callback: Deadline | None
    handling_duration: Duration
    extension_max: int
    extension_length: Duration

    @property
    def unknown_years(self) -> tuple[int, ...]:
        deadlines = (self.dispatch, self.sign, self.return_window, self.handling, self.callback)
        return tuple(sorted({y for d in deadlines if d for y in d.unknown_years}))


def plan_deadlines(
    policy: Policy,
    calendar: WorkCalendar,
    ticket_type: TicketType,
    accepted: datetime,
    *,
    complex_case: bool = False,
    urgent: bool = False,
) -> DeadlinePlan:
    """Assume dispatch at acceptance, signing at the sign deadline and a reply at the handling deadline."""
    dispatch = policy.dispatch.due(accepted) if policy.dispatch else None
    sign = policy.sign.after(accepted, calendar)
    return_start = sign.at if policy.return_from == "sign" else accepted
    handling_duration = policy.handling(ticket_type, complex_case=complex_case, urgent=urgent)
    handling = handling_duration.after(accepted, calendar)
    return DeadlinePlan(
        accepted=accepted,
        dispatch=dispatch,
        sign=sign,
        return_window=policy.return_window.after(return_start, calendar),
        handling=handling,
        onsite=policy.urgent_onsite.after(accepted, calendar) if urgent else None,
        extension_request_by=latest_request(policy, calendar, handling.at),
        callback=policy.callback.after(handling.at, calendar) if policy.callback else None,
        handling_duration=handling_duration,
        extension_max=policy.extension_max,
        extension_length=policy.extension_for(handling_duration),
    )


def latest_request(policy: Policy, calendar: WorkCalendar, due: datetime) -> Deadline:
    """The last moment an extension may be asked for, ``request_before`` ahead of ``due``."""
    return Deadline(policy.extension_request_before.before(due, calendar))
