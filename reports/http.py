"""The report routes: call figures by period, line, skill or agent (JSON or CSV), the live figures the
wallboard opens with, the callers waiting now, and a day's call records. Supervisors and administrators
only: the platform's roles, who see a caller's number whole (only a unit gets it masked, on a ticket)."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from hotline.kernel.api.errors import invalid
from hotline.kernel.api.routes import MANAGERS, ApiRequest, Route, day, one_of, whole, whole_number
from hotline.reports.book import RecordBook
from hotline.reports.figures import GroupBy, to_csv

BOOK_KEY = web.AppKey("record_book", RecordBook)
LONGEST_SPAN_DAYS = 3 * 366
FIRST_YEAR, LAST_YEAR = 2000, 2999  # also keeps a day after the last within what dates can hold
REPORT_DAY = day(r"2\d{3}")  # FIRST_YEAR to LAST_YEAR
FORMATS = ("json", "csv")
RECORDS_MAX = 1000


def _book(call: ApiRequest) -> RecordBook:
    return call.request.app[BOOK_KEY]


def _day(call: ApiRequest, name: str, default: date) -> date:
    text = call.request.query.get(name)
    if text is None:
        return default
    try:
        if len(text) != 10:
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise invalid(name, "须为日期 YYYY-MM-DD") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise invalid(name, f"须在 {FIRST_YEAR} 年到 {LAST_YEAR} 年之间")
    return day


async def call_report(call: ApiRequest) -> Any:
    book, query = _book(call), call.request.query
    first = _day(call, "from", book.today())
    last = _day(call, "to", first)
    if last < first:
        raise invalid("to", "不能早于 from")
    if (last - first).days > LONGEST_SPAN_DAYS:
        raise invalid("to", f"一次最多查询 {LONGEST_SPAN_DAYS} 天")
    try:
        by = GroupBy(query.get("by", GroupBy.DAY.value))
    except ValueError:
        raise invalid("by", "须为 " + "、".join(g.value for g in GroupBy)) from None
    output = query.get("format", "json")
    if output not in FORMATS:
        raise invalid("format", "须为 json 或 csv")
    rows = await book.report(by, first, last)
    if output == "csv":
        name = f"calls-{by.value}-{first.isoformat()}-{last.isoformat()}.csv"
        return web.Response(
            text=to_csv(rows),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return {"from": first.isoformat(), "to": last.isoformat(), "by": by.value, "rows": rows}


async def live_figures(call: ApiRequest) -> dict[str, object]:
    return await _book(call).live()


async def waiting_callers(call: ApiRequest) -> list[dict[str, object]]:
    return _book(call).waiting()


async def call_records(call: ApiRequest) -> list[dict[str, Any]]:
    book = _book(call)
    limit = whole_number("limit", call.request.query.get("limit"), 200, 1, RECORDS_MAX)
    await book.write()  # what was heard a moment ago is in the answer
    return await book.store.records(_day(call, "day", book.today()), limit)


REPORT_ROUTES = [
    Route(
        "GET",
        "/api/reports/calls",
        call_report,
        MANAGERS,
        "话务报表: offered (呼入量), answered, answer_rate (接通率), answered_within_15s_rate, abandoned, "
        "abandoned_short, asa_seconds, aht_seconds, callbacks, voicemails, transfers, conferences "
        "(三方通话); by hour, day, week, month, line, skill or agent (with signed-in, ready and break time, "
        "occupancy); format=csv",
        query={
            "from": REPORT_DAY,
            "to": REPORT_DAY,
            "by": one_of([g.value for g in GroupBy]),
            "format": one_of(FORMATS),
        },
        checked={"to": f"not before from, at most {LONGEST_SPAN_DAYS} days after it"},
    ),
    Route(
        "GET",
        "/api/reports/live",
        live_figures,
        MANAGERS,
        "实时指标: today's figures, per skill, the 24-hour answer rate against 95 %, the day's half hours; "
        "callers still waiting (waiting, 排队中) have no outcome yet and no rate counts them",
    ),
    Route(
        "GET",
        "/api/reports/waiting",
        waiting_callers,
        MANAGERS,
        "排队来电: the callers waiting for an agent now, longest first: their number, line, skill, since "
        "when (queued_at) and how long (waited_seconds), as the call records stand",
    ),
    Route(
        "GET",
        "/api/reports/records",
        call_records,
        MANAGERS,
        "通话记录: a day's call records, newest first (?day=YYYY-MM-DD&limit=), each with its legs "
        "(offers to agents, numbers dialled to transfer or to conference) and its recordings' ids",
        query={"day": REPORT_DAY, "limit": whole(1, RECORDS_MAX)},
    ),
]


def add_reports(app: web.Application, book: RecordBook) -> None:
    app[BOOK_KEY] = book
