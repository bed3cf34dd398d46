"""REST routes for tickets, units and the directory: one table of routes, from which the OpenAPI is built.

Every route names the roles that may call it; the caller is found from a
bearer token. Refusals come back as ``{"error_id", "message", …}`` with a 4xx
status, never as a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from hotline.kernel.api.identity import Labelled, Role
from hotline.kernel.api.routes import (
    ADMINS,
    EVERYONE,
    PLATFORM,
    SAID,
    ApiRequest,
    Route,
    day,
    day_pattern,
    dumps,
    one_of,
    said,
    text,
    whole,
    whole_number,
)
from hotline.ticketing import exchange, kb_store, kpi
from hotline.ticketing.attachments import ALLOWED_TYPES
from hotline.ticketing.calendar import DayOverride
from hotline.ticketing.directory import UNIT_CODE, UNIT_NULLABLE, UNIT_TEXT_LIMITS
from hotline.ticketing.errors import TicketError, forbidden, invalid, not_found
from hotline.ticketing.service import TicketDesk
from hotline.ticketing.store import TicketFilter
from hotline.ticketing.tables import CategoryRow, RegionRow
from hotline.ticketing.vocabulary import Channel, Rejection, Satisfaction, Status, TicketType
from hotline.ticketing.workflow import (
    COMMANDS,
    DESCRIPTION_LIMIT,
    EMAIL,
    HANDED_OVER_BY,
    INTAKE_LIMITS,
    LINKAGE_OUTCOMES,
    PHONE,
    RULES,
)

log = logging.getLogger(__name__)
#: The years a calendar, a deadline or a report may name.
YEARS = (1949, 2199)
#: Ids are stored as 32-bit integers: a larger one names nothing.
MAX_ID = 2**31 - 1
MAX_OFFSET = 10**6
KPI_FORMATS = ("json", "csv")
DESK_KEY = web.AppKey("ticket_desk", TicketDesk)
SENDER_KEY = web.AppKey("platform_id", str)


def desk_of(call: ApiRequest) -> TicketDesk:
    return call.request.app[DESK_KEY]


# ------------------------------------------------------------------ handlers


async def create_ticket(call: ApiRequest) -> web.Response:
    return _taken_in(*await desk_of(call).take_in(call.body, call.actor))


def _taken_in(view: dict[str, Any], created: bool) -> web.Response:
    """201 for a new ticket; 200 when a sender's repeat found the ticket it already made."""
    return web.json_response(view, status=201 if created else 200, dumps=dumps)


async def list_tickets(call: ApiRequest) -> list[dict[str, Any]]:
    query = call.request.query
    try:
        status = Status.parse(query["status"]) if "status" in query else None
    except ValueError as exc:
        raise invalid("status", str(exc)) from None
    try:
        channel = Channel.parse(query["channel"]) if "channel" in query else None
    except ValueError as exc:
        raise invalid("channel", str(exc)) from None
    if "caller_phone" in query and call.actor.role not in PLATFORM:
        raise forbidden("只有热线平台可以按来电号码查找工单")
    limit = whole_number("limit", query.get("limit"), 50, 1, 500)
    offset = whole_number("offset", query.get("offset"), 0, 0, MAX_OFFSET)
    where = TicketFilter(
        status=status,  # type: ignore[arg-type]
        unit=query.get("unit"),
        category=query.get("category"),
        region=query.get("region"),
        channel=channel,  # type: ignore[arg-type]
        caller_phone=query.get("caller_phone"),
        overdue_at=desk_of(call).clock() if query.get("overdue") in ("1", "true") else None,
        limit=limit,
        offset=offset,
    )
    return await desk_of(call).list(call.actor, where)


async def show_ticket(call: ApiRequest) -> dict[str, Any]:
    return await desk_of(call).show(call.match("number"), call.actor)


async def act_on_ticket(call: ApiRequest) -> dict[str, Any]:
    return await desk_of(call).act(call.match("number"), call.match("command"), call.body, call.actor)


async def upload_attachment(call: ApiRequest) -> web.Response:
    if not call.request.content_type.startswith("multipart/form-data"):
        raise TicketError("multipart-required", "附件须以 multipart/form-data 上传，文件字段名为 file", 415)
    reason = ""
    try:
        async for part in await call.request.multipart():
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "reason":
                reason = (await part.text()).strip()
            elif part.name == "file":
                shown = await desk_of(call).attach(
                    call.match("number"), part.filename or "", _chunks(part), call.actor, reason
                )
                return web.json_response(shown, status=201, dumps=dumps)
    except (ValueError, HttpProcessingError) as exc:
        raise TicketError("bad-multipart", f"multipart body is malformed: {exc}", 400) from None
    raise invalid("file", "缺少文件字段 file")


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(256 * 1024):
        yield chunk


async def download_attachment(call: ApiRequest) -> web.FileResponse:
    path, file = await desk_of(call).attachment(call.match("number"), call.match("sha256"), call.actor)
    return web.FileResponse(
        path,
        headers={
            "Content-Type": file["content_type"],
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(file['name'])}",
        },
    )


async def ticket_duplicates(call: ApiRequest) -> list[dict[str, Any]]:
    return await desk_of(call).duplicates(call.match("number"), call.actor)


async def ticket_audit(call: ApiRequest) -> list[dict[str, Any]]:
    return await desk_of(call).audit_trail(call.match("number"), call.actor)


async def list_units(call: ApiRequest) -> list[dict[str, Any]]:
    return await desk_of(call).directory.units()


async def show_unit(call: ApiRequest) -> dict[str, Any]:
    return await desk_of(call).directory.unit(call.match("code"))


async def create_unit(call: ApiRequest) -> dict[str, Any]:
    return await desk_of(call).directory.create_unit(call.body)


async def update_unit(call: ApiRequest) -> dict[str, Any]:
    return await desk_of(call).directory.update_unit(call.match("code"), call.body)


async def list_categories(call: ApiRequest) -> list[dict[str, Any]]:
    return await desk_of(call).directory.tree(CategoryRow)


async def list_regions(call: ApiRequest) -> list[dict[str, Any]]:
    return await desk_of(call).directory.tree(RegionRow)


async def suggest_unit(call: ApiRequest) -> dict[str, Any]:
    query = call.request.query
    for name in ("category", "region"):
        if not query.get(name, "").strip():
            raise invalid(name, "is required")
    unit = await desk_of(call).directory.suggest_unit(query["category"], query["region"])
    return {"unit": unit}


async def set_calendar_day(call: ApiRequest) -> dict[str, Any]:
    try:
        day = date.fromisoformat(call.match("day"))
    except ValueError:
        raise invalid("day", f"not a date: {call.match('day')[:30]!r}") from None
    _calendar_year("day", day.year)
    body = call.body if isinstance(call.body, dict) else {}
    if not isinstance(body.get("is_workday"), bool):
        raise invalid("is_workday", "must be true or false")
    note = body.get("note", "")
    if not isinstance(note, str):
        raise invalid("note", "must be text")
    await desk_of(call).store.set_calendar_days([DayOverride(day, body["is_workday"], note)])
    await desk_of(call).reload_calendar()
    return {"day": day.isoformat(), "is_workday": body["is_workday"], "note": note}


async def declare_year(call: ApiRequest) -> dict[str, Any]:
    year = whole_number("year", call.match("year"), 0, *YEARS)
    await desk_of(call).store.set_calendar_days([], declare_year=year)
    await desk_of(call).reload_calendar()
    return {"year": year, "known": True}


async def export_ticket(call: ApiRequest) -> dict[str, Any]:
    shown = await desk_of(call).show(call.match("number"), call.actor)
    return exchange.to_exchange(shown, call.request.app[SENDER_KEY])


async def receive_forwarded(call: ApiRequest) -> web.Response:
    return _taken_in(*await desk_of(call).take_in(exchange.intake_from_exchange(call.body), call.actor))


async def receive_result(call: ApiRequest) -> dict[str, Any]:
    return await desk_of(call).receive_result(call.match("number"), call.body, call.actor)


def _calendar_year(name: str, year: int) -> None:
    if not YEARS[0] <= year <= YEARS[1]:
        raise invalid(name, f"the calendar covers the years {YEARS[0]} to {YEARS[1]}")


def _article_id(call: ApiRequest) -> int:
    article = int(call.match("id"))  # the route admits digits only
    if article > MAX_ID:
        raise not_found("article", call.match("id")[:30])
    return article


async def search_kb(call: ApiRequest) -> list[dict[str, Any]]:
    query = call.request.query.get("q", "")
    today = desk_of(call).clock().astimezone(desk_of(call).policy.timezone).date()
    limit = whole_number("limit", call.request.query.get("limit"), 10, 1, 50)
    return await desk_of(call).kb.search(query, today, limit)


async def create_article(call: ApiRequest) -> dict[str, Any]:
    return await desk_of(call).kb.create(call.body, call.actor, desk_of(call).clock())


async def show_article(call: ApiRequest) -> dict[str, Any]:
    return await desk_of(call).kb.get(_article_id(call))


async def update_article(call: ApiRequest) -> dict[str, Any]:
    return await desk_of(call).kb.update(_article_id(call), call.body, call.actor, desk_of(call).clock())


async def announce_policy_change(call: ApiRequest) -> dict[str, Any]:
    return await desk_of(call).kb.policy_change(call.body, desk_of(call).clock())


async def kb_reminders(call: ApiRequest) -> list[dict[str, Any]]:
    return await desk_of(call).kb.reminders(call.actor, desk_of(call).clock())


async def kpi_report(call: ApiRequest) -> Any:
    query = call.request.query
    try:
        start = date.fromisoformat(query.get("from", ""))
        end = date.fromisoformat(query.get("to", ""))
    except ValueError:
        raise invalid("from", "from and to must be dates like 2026-11-01") from None
    for name, given in (("from", start), ("to", end)):
        _calendar_year(name, given.year)
    group, output = query.get("group", "unit"), query.get("format", "json")
    if output not in KPI_FORMATS:
        raise invalid("format", "须为 json 或 csv")
    rows = await desk_of(call).kpi_report(group, start, end)
    if output == "csv":
        return web.Response(
            text=kpi.to_csv(rows, group),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="kpi-{group}-{start}-{end}.csv"'},
        )
    return rows


async def show_policy(call: ApiRequest) -> dict[str, Any]:
    return desk_of(call).policy.to_json()


def _words(kind: type[Labelled]) -> list[str]:
    """A vocabulary as the handlers parse it: each code and its Chinese word."""
    return [word for member in kind for word in (member.value, member.label)]


#: The commands posted as JSON; a file is attached by upload instead (``upload_attachment``).
JSON_COMMANDS = COMMANDS - {"attach"}
#: Who may post some command, and who may attach a file: from the workflow's own table of who may do what.
COMMANDERS = frozenset().union(*(RULES[command].roles for command in JSON_COMMANDS))
ATTACHERS = RULES["attach"].roles
_SAID = {"type": "string", "pattern": SAID}  # required text: something besides spaces
_CATEGORY = {
    "type": "string",
    "pattern": SAID,
    "maxLength": INTAKE_LIMITS["category"],
    "description": "a category's code (GET /api/categories)",
}
_REGION = {
    "type": "string",
    "pattern": SAID,
    "maxLength": INTAKE_LIMITS["region"],
    "description": "a region's code (GET /api/regions)",
}
WHERE = {
    "category": "a code of the category tree (GET /api/categories)",
    "region": "a code of the region tree (GET /api/regions)",
}
_COMMAND_BODY = {
    "type": "object",
    "properties": {
        "reason": {"type": "string"},
        "unit": {"type": "string"},
        "assist_units": {"type": "array", "items": {"type": "string"}},
        "text": {"type": "string"},
        "answer": {"type": "string"},
        "result": {"type": "string", "enum": _words(Satisfaction)},
        "unit_fault": {"type": "boolean"},
        "verdict": {"type": "string", "enum": ["reasonable", "unreasonable"]},
        "rejection": {"type": "string", "enum": _words(Rejection)},
        "into": {"type": "string"},
        "complex": {"type": "boolean"},
        "urgent": {"type": "boolean"},
        # record_linkage: who took a matter shared with 110 on the ticket's call (kept: 首接负责).
        "outcome": {"type": "string", "enum": list(LINKAGE_OUTCOMES)},
    },
}
#: What each command requires of the body: one schema for every command cannot say it.
_COMMAND_FIELDS = {
    "reason": "required (not only spaces) by redispatch, request_return, refuse_return, request_extension, "
    "refuse_extension, reject_reply, evaluate and supervise",
    "unit": "an active unit's code (GET /api/units), required by dispatch and redispatch",
    "assist_units": "active units' codes",
    "text": "required by note, reply, assist_reply and message_citizen",
    "answer": "required by answer",
    "into": "the number of a ticket this one may merge into, required by merge",
    "rejection": "required by reject",
    "result": "required by record_callback",
    "verdict": "required by evaluate",
    "outcome": "required by record_linkage",
}
_TICKET_TYPE = {"type": "string", "enum": _words(TicketType)}
#: A phone number, or none (empty); the exchange's masked one (holding *) is none too.
_PHONE = {"type": "string", "pattern": f"^(?:{PHONE.pattern[1:-1]})?$"}
_MASKED_PHONE = {"type": "string", "pattern": f"^(?:{PHONE.pattern[1:-1]}|.*\\*.*)?$"}
_SHORT = {name: {"type": "string", "maxLength": limit} for name, limit in INTAKE_LIMITS.items()}
INTAKE_BODY = {
    "type": "object",
    "required": ["type", "description", "category", "region"],
    "properties": {
        "type": _TICKET_TYPE,
        "channel": {"type": "string", "enum": _words(Channel), "default": "phone"},
        "description": _SAID | {"maxLength": DESCRIPTION_LIMIT},
        "category": _CATEGORY,
        "region": _REGION,
        "caller_name": _SHORT["caller_name"],
        "caller_phone": _PHONE,
        "callback_phone": _PHONE,
        "caller_email": {"type": "string", "pattern": f"^(?:{EMAIL.pattern[1:-1]})?$", "maxLength": 254},
        "address": _SHORT["address"],
        "confidential": {"type": "boolean"},
        "share_number": {"type": "boolean", "description": "the caller agreed that units may see the number"},
        "urgent": {"type": "boolean"},
        "sms_notices": {
            "type": "boolean",
            "description": "the caller agreed to get the ticket number and the reply by SMS",
        },
        "call_id": _SHORT["call_id"],
        "handed_over_by": {
            "type": "string",
            "enum": list(HANDED_OVER_BY),
            "description": "110, 119, 120 or 122 handed the caller to 12345 (110-12345 联动)",
        },
        "attachments": {
            "type": "array",
            "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        },
        "source": _SHORT["source"],
        "external_id": _SHORT["external_id"]
        | {"description": "the sender's id; a repeat returns the first ticket"},
    },
}
REPEAT = {200: "a repeat: the ticket the first request made"}
#: The calendar's years (YEARS) as a regular expression.
_CALENDAR_YEARS = r"1949|19[5-9]\d|2[01]\d\d"
_DATE = day().schema
_ARTICLE_BODY = {
    "type": "object",
    "required": ["question", "answer", "category", "effective_from"],
    "properties": {
        "question": _SAID | {"maxLength": 500},
        "answer": _SAID | {"maxLength": 10000},
        "category": _CATEGORY,
        "unit": {
            "type": ["string", "null"],
            "maxLength": 40,
            "description": "owning unit: required from the platform's roles; a unit's own",
        },
        "effective_from": _DATE,
        "expires_on": {
            "type": ["string", "null"],
            "pattern": f"^(?:{day_pattern()})?$",
            "description": "a day after effective_from; empty or null: never",
        },
        "source_document": {"type": "string", "maxLength": 200},
    },
}
_ARTICLE_FIELDS = {
    "category": "a code of the category tree (GET /api/categories)",
    "unit": "an active unit's code; required from the platform's roles, a unit's own from a unit",
    "expires_on": "a real day, after effective_from",
}
_UNIT_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        key: {
            "type": ["string", "null"] if key in UNIT_NULLABLE else "string",
            "maxLength": limit,
            "pattern": SAID,
        }
        for key, limit in UNIT_TEXT_LIMITS.items()
        if key != "code"
    }
    | {"active": {"type": "boolean"}},
}
_UNIT_BODY = _UNIT_CHANGE | {
    "required": ["code", "name"],
    "properties": _UNIT_CHANGE["properties"]
    | {
        "code": {"type": "string", "maxLength": UNIT_TEXT_LIMITS["code"], "pattern": f"^{UNIT_CODE.pattern}$"}
    },
}
_UNIT_FIELDS = {"parent_code": "a unit's code, not this unit's (null: a 一级 unit)"}

TICKET_ROUTES: list[Route] = [
    Route(
        "POST",
        "/api/tickets",
        create_ticket,
        PLATFORM,
        "受理: take in a ticket",
        INTAKE_BODY,
        status=201,
        creates=("number", "/number"),
        checked=WHERE,
        answers=REPEAT,
    ),
    Route(
        "GET",
        "/api/tickets",
        list_tickets,
        EVERYONE,
        "list tickets (units: only their own)",
        query={
            "status": one_of(_words(Status)),
            "channel": one_of(_words(Channel)),
            "caller_phone": text(),
            "unit": text(),
            "category": text(),
            "region": text(),
            "overdue": text(),
            "limit": whole(1, 500),
            "offset": whole(0, MAX_OFFSET),
        },
    ),
    Route(
        "GET",
        "/api/tickets/{number}",
        show_ticket,
        EVERYONE,
        "one ticket with its history, as the caller may see it",
    ),
    Route(
        "POST",
        "/api/tickets/{number}/attachments",
        upload_attachment,
        ATTACHERS,
        "attach a file (photo, PDF, office document, audio, video; 20 MB at most) as multipart field file",
        status=201,
        upload=True,
        checked={"file": "named with one of " + " ".join(sorted(ALLOWED_TYPES)) + " (else 415)"},
    ),
    Route(
        "GET",
        r"/api/tickets/{number}/attachments/{sha256:[0-9a-f]{64}}",
        download_attachment,
        EVERYONE,
        "download an attached file (a unit's download is audited)",
    ),
    Route(
        "POST",
        "/api/tickets/{number}/{command}",
        act_on_ticket,
        COMMANDERS,
        "a workflow command: " + ", ".join(sorted(JSON_COMMANDS)),
        _COMMAND_BODY,
        path_params={"command": one_of(JSON_COMMANDS)},
        checked=_COMMAND_FIELDS,
    ),
    Route("GET", "/api/tickets/{number}/duplicates", ticket_duplicates, PLATFORM, "likely duplicates (并单)"),
    Route(
        "GET",
        "/api/tickets/{number}/audit",
        ticket_audit,
        frozenset({Role.SUPERVISOR, Role.ADMIN}),
        "who read the caller's personal data",
    ),
    Route("GET", "/api/units", list_units, EVERYONE, "handling units (承办单位)"),
    Route(
        "POST",
        "/api/units",
        create_unit,
        ADMINS,
        "add a unit",
        _UNIT_BODY,
        status=201,
        creates=("code", "/code"),
        checked=_UNIT_FIELDS,
    ),
    Route("GET", "/api/units/{code}", show_unit, EVERYONE, "one unit"),
    Route(
        "PATCH",
        "/api/units/{code}",
        update_unit,
        ADMINS,
        "rename, move or retire a unit",
        _UNIT_CHANGE,
        checked=_UNIT_FIELDS,
    ),
    Route("GET", "/api/categories", list_categories, EVERYONE, "the topic tree"),
    Route("GET", "/api/regions", list_regions, EVERYONE, "the region tree"),
    Route(
        "GET",
        "/api/routing/suggest",
        suggest_unit,
        PLATFORM,
        "派单目录: the unit for a category and region",
        query={"category": said(required=True), "region": said(required=True)},
    ),
    Route(
        "GET",
        "/api/kb",
        search_kb,
        EVERYONE,
        "search the knowledge base (articles in force today)",
        query={"q": said(required=True), "limit": whole(1, 50)},
        checked={"q": "holds a word the search knows (not only punctuation or the commonest words)"},
    ),
    Route(
        "POST",
        "/api/kb",
        create_article,
        kb_store.WRITERS,
        "add an article (units: their own)",
        _ARTICLE_BODY,
        status=201,
        creates=("id", "/id"),
        checked=_ARTICLE_FIELDS,
    ),
    Route("GET", r"/api/kb/{id:\d+}", show_article, EVERYONE, "an article with all its versions"),
    Route(
        "PUT",
        r"/api/kb/{id:\d+}",
        update_article,
        kb_store.WRITERS,
        "a new version of an article (units: their own)",
        _ARTICLE_BODY,
        checked=_ARTICLE_FIELDS,
    ),
    Route(
        "POST",
        "/api/kb/policy-changes",
        announce_policy_change,
        kb_store.EDITORS,
        "a policy changed: articles in these categories are due for review in 5 working days",
        {
            "type": "object",
            "required": ["title", "categories"],
            "properties": {
                "title": _SAID,
                "categories": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            },
        },
        checked={"categories": "codes of the category tree (GET /api/categories)"},
    ),
    Route("GET", "/api/kb/reminders", kb_reminders, EVERYONE, "articles due for review (units: their own)"),
    Route(
        "GET",
        "/api/exchange/tickets/{number}",
        export_ticket,
        EVERYONE,
        "a ticket in the exchange format (hotline.ticket/1), as the caller may see it",
    ),
    Route(
        "POST",
        "/api/exchange/tickets",
        receive_forwarded,
        PLATFORM,
        "take in a ticket forwarded by another platform; idempotent on (sender, id)",
        {
            "type": "object",
            "required": ["format", "sender", "id", "type", "description", "category", "region"],
            "properties": {
                "format": {"type": "string", "enum": [exchange.TICKET_FORMAT]},
                "type": _TICKET_TYPE,
                "description": _SAID | {"maxLength": DESCRIPTION_LIMIT},
                "category": _CATEGORY,
                "region": _REGION,
                "address": _SHORT["address"],
                "urgent": {"type": "boolean"},
                "sender": _SAID | {"maxLength": INTAKE_LIMITS["source"]},
                "id": _SAID | {"maxLength": INTAKE_LIMITS["external_id"]},
                "caller": {
                    "type": ["object", "null"],
                    "description": "a number or address the sender masked (holding *) arrives as none",
                    "properties": {
                        "name": _SHORT["caller_name"],
                        "phone": _MASKED_PHONE,
                        "callback_phone": _MASKED_PHONE,
                        "email": {
                            "type": "string",
                            "pattern": f"^(?:{EMAIL.pattern[1:-1]}|.*\\*.*)?$",
                            "maxLength": 254,
                        },
                        "confidential": {"type": "boolean"},
                        "share_number": {"type": "boolean"},
                    },
                },
            },
        },
        status=201,
        checked=WHERE,
        answers=REPEAT,
    ),
    Route(
        "POST",
        "/api/exchange/tickets/{number}/result",
        receive_result,
        frozenset({Role.UNIT}),
        "another platform's result for a ticket forwarded to it; idempotent on result_id",
        {
            "type": "object",
            "required": ["format", "result_id", "text"],
            "properties": {
                "format": {"type": "string", "enum": [exchange.RESULT_FORMAT]},
                "result_id": _SAID,
                "text": _SAID,
            },
        },
    ),
    Route(
        "GET",
        "/api/reports/kpi",
        kpi_report,
        frozenset({Role.SUPERVISOR, Role.ADMIN}),
        "KPIs by unit, category, region, day or month (format=csv for a spreadsheet)",
        query={
            "group": one_of(kpi.GROUPS),
            "from": day(_CALENDAR_YEARS, required=True),
            "to": day(_CALENDAR_YEARS, required=True),
            "format": one_of(KPI_FORMATS),
        },
        checked={"to": "after from"},
    ),
    Route("GET", "/api/policy", show_policy, EVERYONE, "the deadline policy in force"),
    Route(
        "PUT",
        r"/api/calendar/days/{day:\d{4}-\d{2}-\d{2}}",
        set_calendar_day,
        ADMINS,
        "mark a day as working day or holiday",
        {
            "type": "object",
            "required": ["is_workday"],
            "properties": {"is_workday": {"type": "boolean"}, "note": {"type": "string"}},
        },
        path_params={"day": day(_CALENDAR_YEARS)},
        checked={"day": "a day of the calendar"},
    ),
    Route(
        "PUT",
        "/api/calendar/years/{year}",
        declare_year,
        ADMINS,
        "declare a year's holidays complete, so its deadlines are no longer estimates",
        path_params={"year": whole(*YEARS)},
    ),
]


# ------------------------------------------------------------------ wiring


def add_ticket_desk(app: web.Application, desk: TicketDesk, platform_id: str = "hotline") -> None:
    """What the ticket routes read: the desk, and the platform's name as a sender of exchanged tickets."""
    app[DESK_KEY] = desk
    app[SENDER_KEY] = platform_id
