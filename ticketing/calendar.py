"""Working days and working hours: Chinese public holidays, make-up days (调休) and overrides.

The calendar is pure data plus arithmetic. Its sources, in order of precedence:
the administrator's overrides, the ``chinese_calendar`` package's tables, then
plain weekends. A year that neither the package nor an administrator declared
is *unknown*: deadlines that cross it are still computed (on weekends only)
but carry that year in ``Deadline.unknown_years`` so nobody mistakes an
estimate for a promise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta


class CalendarError(ValueError):
    """Bad calendar input (a service day that ends before it starts, say)."""


@dataclass(frozen=True)
class ServiceDay:
    """The hours of a working day over which working-hour deadlines run."""

    start: time = time(8, 30)
    end: time = time(17, 30)

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise CalendarError(f"service day must end after it starts: {self.start}-{self.end}")

    @property
    def hours(self) -> float:
        return (_seconds(self.end) - _seconds(self.start)) / 3600

    @classmethod
    def parse(cls, text: str) -> ServiceDay:
        """``"08:30-17:30"``."""
        start, sep, end = text.partition("-")
        if not sep:
            raise CalendarError(f"service day must look like 08:30-17:30, got {text!r}")
        return cls(parse_clock(start), parse_clock(end))


@dataclass(frozen=True)
class Deadline:
    at: datetime
    unknown_years: tuple[int, ...] = ()

    @property
    def estimated(self) -> bool:
        """True when a year on the way is unknown, so weekends alone were counted."""
        return bool(self.unknown_years)

    def to_json(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "estimated": self.estimated,
            "unknown_years": list(self.unknown_years),
        }


@dataclass(frozen=True)
class DayOverride:
    day: date
    is_workday: bool
    note: str = ""


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    known_years: frozenset[int] = frozenset()
    service_day: ServiceDay = field(default_factory=ServiceDay)

    def with_overrides(
        self, overrides: Iterable[DayOverride], declared_years: Iterable[int] = ()
    ) -> WorkCalendar:
        """Layer an administrator's days on top; declared years become known."""
        holidays, workdays = set(self.holidays), set(self.workdays)
        for override in overrides:
            (workdays if override.is_workday else holidays).add(override.day)
            (holidays if override.is_workday else workdays).discard(override.day)
        return WorkCalendar(
            frozenset(holidays), frozenset(workdays), self.known_years | set(declared_years), self.service_day
        )

    def is_known(self, year: int) -> bool:
        return year in self.known_years

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_hours(self, start: datetime, hours: float) -> Deadline:
        """Move forward by ``hours`` of service-day time; the clock stands still outside it."""
        if hours < 0:
            raise CalendarError("a duration cannot be negative")
        remaining = timedelta(hours=hours)
        unknown: set[int] = set()
        day, moment = start.date(), start
        while True:
            if not self.is_known(day.year):
                unknown.add(day.year)
            if self.is_workday(day):
                opens = datetime.combine(day, self.service_day.start, start.tzinfo)
                closes = datetime.combine(day, self.service_day.end, start.tzinfo)
                begin = max(moment, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return Deadline(begin + remaining, tuple(sorted(unknown)))
                    remaining -= available
            day += timedelta(days=1)
            moment = datetime.combine(day, time(0), start.tzinfo)

    def subtract_working_hours(self, end: datetime, hours: float) -> datetime:
        """Walk back ``hours`` of service time from ``end``: the inverse of add_working_hours."""
        remaining = timedelta(hours=hours)
        day, moment = end.date(), end
        while remaining > timedelta(0):
            if self.is_workday(day):
                opens = datetime.combine(day, self.service_day.start, end.tzinfo)
                closes = datetime.combine(day, self.service_day.end, end.tzinfo)
                finish = min(moment, closes)
                if finish > opens:
                    if remaining <= finish - opens:
                        return finish - remaining
                    remaining -= finish - opens
            day -= timedelta(days=1)
            moment = datetime.combine(day, time(23, 59, 59), end.tzinfo)
        return end

    def add_working_days(self, start: datetime, days: float) -> Deadline:
        """N working days = N service days of working hours, so 0.5 is half a day."""
        return self.add_working_hours(start, days * self.service_day.hours)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Service-day hours from ``start`` to ``end`` (negative when end is earlier)."""
        if end < start:
            return -self.working_hours_between(end, start)
        total = timedelta()
        day = start.date()
        while day <= end.date():
            if self.is_workday(day):
                opens = datetime.combine(day, self.service_day.start, start.tzinfo)
                closes = datetime.combine(day, self.service_day.end, start.tzinfo)
                begin, finish = max(start, opens), min(end, closes)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total.total_seconds() / 3600


def parse_clock(text: str) -> time:
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
        return time(hours, minutes)
    except ValueError:
        raise CalendarError(f"expected a time like 18:00, got {text!r}") from None


def package_calendar(service_day: ServiceDay | None = None) -> WorkCalendar:
    """The calendar as the ``chinese_calendar`` package knows it (State Council notices)."""
    from chinese_calendar import constants

    holidays: Mapping[date, object] = constants.holidays
    workdays: Mapping[date, object] = constants.workdays
    years = {day.year for day in holidays}
    return WorkCalendar(
        frozenset(holidays), frozenset(workdays), frozenset(years), service_day or ServiceDay()
    )


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


@dataclass(frozen=True)
class AnsweringHours:
    """When agents answer the phone: ``7x24``, ``08:00-20:00`` (every day) or ``workdays 08:30-17:30``.

    Outside them a call takes the night path: the night shift's seats if any
    are logged in, else voicemail. ``workdays`` follows the same calendar as
    ticket deadlines, so public holidays and make-up days (调休) count.
    """

    hours: ServiceDay | None = None  # None: around the clock
    workdays_only: bool = False

    @classmethod
    def parse(cls, text: str) -> AnsweringHours:
        spec = text.strip()
        if spec == "7x24":
            return cls()
        workdays_only = spec.startswith("workdays ")
        hours = spec.removeprefix("workdays ").strip()
        return cls(ServiceDay.parse(hours), workdays_only)

    def open_at(self, at: datetime, calendar: WorkCalendar) -> bool:
        if self.hours is None:
            return True
        if self.workdays_only and not calendar.is_workday(at.date()):
            return False
        return self.hours.start <= at.time() < self.hours.end
