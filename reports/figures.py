"""What the call reports say and how each figure is derived: pure, no I/O.

The store sums; this module names the sums, turns them into rates and
averages, and writes them as JSON rows or CSV. A figure's definition lives
here once, so the API, the CSV and the wallboard say the same thing.

- ``offered`` (呼入量): inbound calls that reached the system, those still going included.
- ``waiting`` (排队中): callers waiting for an agent now, neither answered nor
  gone yet. They have no outcome, so no rate counts them until they have one.
- ``requested`` (人工呼入量): calls that asked for an agent (queued), or that an
  agent answered without queueing (the fallback queue, while no controller ran),
  once the wait has an outcome: the callers still waiting are not among them.
- ``answer_rate`` (接通率): answered / requested.
- ``answered_within_15s_rate``: answered within 15 s of asking / requested
  (GB/T 33358 asks for 15 s).
- ``abandoned_short``: abandoned within ``SHORT_ABANDON_SECONDS`` of asking; most
  centres leave them out of the abandon rate (wrong numbers, second thoughts).
- ``asa_seconds``: the mean wait of answered calls; ``aht_seconds``: the mean talk
  plus wrap-up of answered calls.
- ``rated`` (评价量): calls whose caller rated the service after the agent hung up;
  ``satisfaction_rate`` (满意率): satisfied or basically satisfied / rated.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum

ANSWER_WITHIN_SECONDS = 15.0  # GB/T 33358
ANSWER_RATE_TARGET = 0.95  # GB/T 33358: 接通率 ≥ 95 %
SHORT_ABANDON_SECONDS = 5.0
#: The ratings a satisfaction rate counts as satisfied (满意 and 基本满意).
SATISFIED_RATINGS = ("satisfied", "basically_satisfied")


class GroupBy(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    LINE = "line"
    SKILL = "skill"
    AGENT = "agent"


#: The sums the store computes for each group, in order.
SUMS = (
    "offered",
    "requested",
    "waiting",
    "answered",
    "answered_within_15s",
    "abandoned",
    "abandoned_short",
    "wait_answered_seconds",
    "handle_seconds",
    "callbacks",
    "callbacks_made",
    "voicemails",
    "emergency",
    "transfers",
    "conferences",
    "rated",
    "rated_satisfied",
)

NO_SUMS = dict.fromkeys(SUMS, 0.0)

#: A row's columns, as the JSON and the CSV give them, with their Chinese headings.
COLUMNS = {
    "key": "分组",
    "offered": "呼入量",
    "requested": "人工呼入量",
    "answered": "接通量",
    "waiting": "排队中",
    "answer_rate": "接通率",
    "answered_within_15s_rate": "15秒接通率",
    "abandoned": "放弃量",
    "abandoned_short": "短时放弃量",
    "asa_seconds": "平均应答时长(秒)",
    "aht_seconds": "平均处理时长(秒)",
    "callbacks": "预约回拨量",
    "callbacks_made": "已回拨量",
    "voicemails": "留言量",
    "emergency": "紧急转接量",
    "transfers": "转接量",
    "conferences": "三方通话量",
    "rated": "评价量",
    "satisfaction_rate": "满意率",
}

#: Per agent, from the state intervals, beside the call figures.
AGENT_COLUMNS = {
    "not_answered": "未接量",
    "signed_in_seconds": "签入时长(秒)",
    "ready_seconds": "示闲时长(秒)",
    "talk_seconds": "通话时长(秒)",
    "wrap_up_seconds": "话后处理时长(秒)",
    "break_seconds": "小休时长(秒)",
    "break_by_reason": "小休明细(秒)",
    "occupancy": "占用率",
}


def _ratio(part: float, whole: float, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def figures(key: str, sums: Mapping[str, float]) -> dict[str, object]:
    """One report row from the store's sums for one group."""
    requested, answered = sums["requested"], sums["answered"]
    return {
        "key": key,
        "offered": int(sums["offered"]),
        "requested": int(requested),
        "answered": int(answered),
        "waiting": int(sums["waiting"]),
        "answer_rate": _ratio(answered, requested),
        "answered_within_15s_rate": _ratio(sums["answered_within_15s"], requested),
        "abandoned": int(sums["abandoned"]),
        "abandoned_short": int(sums["abandoned_short"]),
        "asa_seconds": _ratio(sums["wait_answered_seconds"], answered, 1),
        "aht_seconds": _ratio(sums["handle_seconds"], answered, 1),
        "callbacks": int(sums["callbacks"]),
        "callbacks_made": int(sums["callbacks_made"]),
        "voicemails": int(sums["voicemails"]),
        "emergency": int(sums["emergency"]),
        "transfers": int(sums["transfers"]),
        "conferences": int(sums["conferences"]),
        "rated": int(sums["rated"]),
        "satisfaction_rate": _ratio(sums["rated_satisfied"], sums["rated"]),
    }


@dataclass(frozen=True)
class AgentTime:
    """An agent's seconds in each state over the report's span; breaks by reason."""

    by_state: Mapping[str, float]
    break_by_reason: Mapping[str, float]

    def columns(self, not_answered: int) -> dict[str, object]:
        seconds = {state: round(self.by_state.get(state, 0.0)) for state in ("ready", "talking", "wrap_up")}
        on_calls = self.by_state.get("ringing", 0.0) + self.by_state.get("talking", 0.0)
        signed_in = sum(s for state, s in self.by_state.items() if state != "logged_out")
        on_break = self.by_state.get("break", 0.0)
        working = on_calls + self.by_state.get("wrap_up", 0.0)
        return {
            "not_answered": not_answered,
            "signed_in_seconds": round(signed_in),
            "ready_seconds": seconds["ready"],
            "talk_seconds": round(on_calls),
            "wrap_up_seconds": seconds["wrap_up"],
            "break_seconds": round(on_break),
            "break_by_reason": {reason: round(s) for reason, s in sorted(self.break_by_reason.items())},
            # Busy with calls over the time available for them (signed in and not on break).
            "occupancy": _ratio(working, signed_in - on_break),
        }


def to_csv(rows: Sequence[Mapping[str, object]]) -> str:
    """With a byte-order mark and Chinese headings, as the spreadsheets centres use expect."""
    names = [name for name in (*COLUMNS, *AGENT_COLUMNS) if any(name in row for row in rows)] or list(COLUMNS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([{**COLUMNS, **AGENT_COLUMNS}[name] for name in names])
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in names])
    return "\ufeff" + out.getvalue()


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return "；".join(f"{k}:{v}" for k, v in value.items())
    return value


# -- the wallboard's day ------------------------------------------------------------

HALF_HOUR = 1800.0


@dataclass(frozen=True)
class DayCall:
    arrived: float
    queued: float | None  # asked for an agent
    stopped_waiting: float | None  # answered, or gone; None while still waiting
    outcome: str


def _spread(totals: list[float], day_start: float, start: float, end: float) -> None:
    """Add the seconds of [start, end) to each half hour they fall in."""
    first = max(0, int((start - day_start) // HALF_HOUR))
    for index in range(first, min(len(totals), int((end - day_start) // HALF_HOUR) + 1)):
        slot = day_start + index * HALF_HOUR
        totals[index] += max(0.0, min(end, slot + HALF_HOUR) - max(start, slot))


def half_hours(
    day_start: float,
    now: float,
    calls: Sequence[DayCall],
    ready: Sequence[tuple[float, float | None]],
    zone: tzinfo,
) -> list[dict[str, object]]:
    """The day so far in half hours, each starting at the centre's own time (``zone``): calls arrived,
    answered and abandoned (a caller still waiting is neither), and on average how many callers waited
    and how many agents were ready (time in the state over the half hour)."""
    count = max(0, min(48, int((now - day_start) // HALF_HOUR) + 1))
    offered, answered, abandoned = [0] * count, [0] * count, [0] * count
    waiting, agents_ready = [0.0] * count, [0.0] * count
    for call in calls:
        index = int((call.arrived - day_start) // HALF_HOUR)
        if 0 <= index < count:
            offered[index] += 1
            answered[index] += call.outcome == "answered"
            abandoned[index] += call.outcome == "abandoned"
        if call.queued is not None:
            _spread(waiting, day_start, call.queued, min(call.stopped_waiting or now, now))
    for start, end in ready:
        _spread(agents_ready, day_start, start, min(end or now, now))
    slots = []
    for index in range(count):
        slot = day_start + index * HALF_HOUR
        span = max(1.0, min(HALF_HOUR, now - slot))
        slots.append(
            {
                "start": datetime.fromtimestamp(slot, zone).isoformat(),
                "offered": offered[index],
                "answered": answered[index],
                "abandoned": abandoned[index],
                "waiting": round(waiting[index] / span, 2),
                "agents_ready": round(agents_ready[index] / span, 2),
            }
        )
    return slots


# -- time ------------------------------------------------------------------------


def buckets(moment: float, zone: tzinfo) -> dict[str, str]:
    """The report keys of a moment, in the centre's time zone."""
    local = datetime.fromtimestamp(moment, zone)
    year, week, _ = local.isocalendar()
    return {
        "day": local.strftime("%Y-%m-%d"),
        "hour": local.strftime("%Y-%m-%d %H"),
        "week": f"{year}-W{week:02d}",
        "month": local.strftime("%Y-%m"),
    }


def day_span(first: date, last: date, zone: tzinfo) -> tuple[float, float]:
    """From the first day's local midnight to the midnight after the last day, as Unix seconds."""
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    return start.timestamp(), end.timestamp()


def moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)
