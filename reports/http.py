"""The report routes: call figures by period, line, skill or agent (JSON or CSV), the live figures the
wallboard opens with, and a day's call records. Supervisors and administrators only."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from kernel.api.errors import invalid
from kernel.api.routes import MANAGERS, ApiRequest, Route, whole_number
from reports.book import RecordBook
from reports.figures import GroupBy, to_csv

BOOK_KEY = web.AppKey("record_book", RecordBook)
LONGEST_SPAN_DAYS = 3 * 366
FIRST_YEAR, LAST_YEAR = 2000, 2999  # also keeps a day after the last within what dates can hold
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
    if output not in {"json", "csv"}:
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
        query=("from", "to", "by", "format"),
    ),
    Route(
        "GET",
        "/api/reports/live",
        live_figures,
        MANAGERS,
        "实时指标: today's figures, per skill, the 24-hour answer rate against 95 %, the day's half hours",
    ),
    Route(
        "GET",
        "/api/reports/records",
        call_records,
        MANAGERS,
        "通话记录: a day's call records, newest first (?day=YYYY-MM-DD&limit=), each with its legs "
        "(offers to agents, numbers dialled to transfer or to conference) and its recordings' ids",
        query=("day", "limit"),
    ),
]


def add_reports(app: web.Application, book: RecordBook) -> None:
    app[BOOK_KEY] = book
