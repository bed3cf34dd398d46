"""The hotline's KPIs (Yingkou's list), defined once: per-ticket facts, then sums and rates. Pure.

Each ticket's facts are a projection of its events, stored beside its snapshot
in the same transaction, so a report is a GROUP BY and needs no replay. Reports
are cohorts: tickets *accepted* in the period, grouped by unit, category,
region or day/month.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.ticketing.vocabulary import Satisfaction, Status
from hotline.ticketing.workflow import Ticket

AT_UNIT = (Status.DISPATCHED.value, Status.IN_PROGRESS.value, Status.RETURN_REQUESTED.value)
GROUPS = ("unit", "category", "region", "day", "month", "all")


def facts(ticket: Ticket) -> dict[str, Any]:
    """The KPI columns of one ticket."""
    completed = ticket.completed_at is not None
    verdicts = {s.value for s in Satisfaction} - {Satisfaction.UNREACHABLE.value}
    return {
        "accepted_day": ticket.accepted_at.date().isoformat(),
        "dispatched": ticket.dispatched_at is not None,
        "completed_at": ticket.completed_at,
        "completed_on_time": completed and not ticket.replied_late,
        "extended": completed and ticket.extensions_granted > 0,
        "first_time": completed
        and ticket.redo_count == 0
        and ticket.return_requests == 0
        and ticket.reply_rejections == 0,
        "satisfaction": ticket.satisfaction if ticket.satisfaction in verdicts else "",
    }


@dataclass(frozen=True)
class Measure:
    key: str
    label: str


COUNTS = (
    Measure("accepted", "受理量"),
    Measure("dispatched", "转办量"),
    Measure("completed", "办结量"),
    Measure("completed_extended", "延期办结量"),
    Measure("overdue_open", "超期未办结量"),
    Measure("completed_on_time", "按时办结量"),
    Measure("first_time", "一次办结量"),
    Measure("surveyed", "回访量"),
    Measure("satisfied", "满意量"),
)
RATES = (
    Measure("on_time_rate", "按时办结率"),
    Measure("satisfaction_rate", "满意率"),
    Measure("callback_rate", "回访率"),
    Measure("first_time_rate", "一次办结率"),
)


def with_rates(row: Mapping[str, Any]) -> dict[str, Any]:
    """Add the rates to a row of counts; a rate over nothing is None, not 0."""

    def ratio(part: str, whole: str) -> float | None:
        return round(row[part] / row[whole], 4) if row[whole] else None

    return {
        **row,
        "on_time_rate": ratio("completed_on_time", "completed"),
        "satisfaction_rate": ratio("satisfied", "surveyed"),
        "callback_rate": ratio("surveyed", "completed"),
        "first_time_rate": ratio("first_time", "completed"),
    }


def to_csv(rows: Iterable[Mapping[str, Any]], group: str) -> str:
    """A CSV with Chinese headers, for the people who read these reports in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    measures = (*COUNTS, *RATES)
    writer.writerow(
        [
            {
                "unit": "承办单位",
                "category": "分类",
                "region": "区域",
                "day": "日期",
                "month": "月份",
                "all": "合计",
            }[group],
            *(m.label for m in measures),
        ]
    )
    for row in rows:
        writer.writerow([row["group"], *("" if row[m.key] is None else row[m.key] for m in measures)])
    return out.getvalue()


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    as_of: datetime  # what "overdue" is measured against
