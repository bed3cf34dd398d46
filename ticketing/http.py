"""REST routes for tickets, units and the directory: one table of routes, from which the OpenAPI is built.

Every route names the roles that may call it; the caller is found from a
bearer token. Refusals come back as ``{"error_id", "message", …}`` with a 4xx
status, never as a stack trace.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from hotline.users import Users
from ticketing import exchange, kpi, webhooks
from ticketing.calendar import DayOverride
from ticketing.directory import UNIT_CODE, UNIT_TEXT_LIMITS
from ticketing.errors import TicketError, invalid, not_found
from ticketing.service import TicketDesk
from ticketing.store import TicketFilter
from ticketing.tables import CategoryRow, RegionRow
from ticketing.vocabulary import PLATFORM_ROLES, Channel, Role, Status, TicketType
from ticketing.workflow import COMMANDS, PHONE, Actor

log = logging.getLogger(__name__)
#: ``{id:\d+}`` in aiohttp is ``{id}`` in OpenAPI.
PATH_PARAMETER = re.compile(r"\{(\w+)(?::((?:[^{}]|\{[^{}]*\})+))?\}")
EVERYONE = frozenset(Role)
PLATFORM = PLATFORM_ROLES
ADMINS = frozenset({Role.ADMIN})
Handler = Callable[["ApiRequest"], Awaitable[Any]]
#: The years a calendar, a deadline or a report may name.
YEARS = (1949, 2199)
#: Ids are stored as 32-bit integers: a larger one names nothing.
MAX_ID = 2**31 - 1
MAX_OFFSET = 10**6
#: How long a JSON body may take to arrive (uploads stream, and are bounded by size instead).
BODY_SECONDS = 30.0


@dataclass(frozen=True)
class ApiRequest:
    """One request, already authenticated and parsed."""

    request: web.Request
    actor: Actor
    body: Any

    @property
    def desk(self) -> TicketDesk:
        return self.request.app[DESK_KEY]

    def match(self, name: str) -> str:
        return self.request.match_info[name]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    roles: frozenset[Role]
    summary: str
    body: dict[str, Any] | None = None
    query: tuple[str, ...] = ()
    status: int = 200
    upload: bool = False  # a multipart/form-data body with a ``file`` field
    signed: bool = False  # a gateway's HMAC signature instead of a bearer token


DESK_KEY = web.AppKey("ticket_desk", TicketDesk)
USERS_KEY = web.AppKey("users", Users)
SENDER_KEY = web.AppKey("platform_id", str)
WEBHOOK_SECRET_KEY = web.AppKey("webhook_secret", str)
GATEWAY = Actor("gateway", Role.AGENT)


# ------------------------------------------------------------------ handlers


async def create_ticket(call: ApiRequest) -> web.Response:
    return _taken_in(*await call.desk.take_in(call.body, call.actor))


def _taken_in(view: dict[str, Any], created: bool) -> web.Response:
    """201 for a new ticket; 200 when a sender's repeat found the ticket it already made."""
    return web.json_response(view, status=201 if created else 200, dumps=_dumps)


async def receive_message(call: ApiRequest) -> web.Response:
    receipt, created = await call.desk.take_in_message(call.match("channel"), call.body)
    return web.json_response(receipt, status=201 if created else 200, dumps=_dumps)


async def list_tickets(call: ApiRequest) -> list[dict[str, Any]]:
    query = call.request.query
    try:
        status = Status.parse(query["status"]) if "status" in query else None
    except ValueError as exc:
        raise invalid("status", str(exc)) from None
    limit = whole_number("limit", query.get("limit"), 50, 1, 500)
    offset = whole_number("offset", query.get("offset"), 0, 0, MAX_OFFSET)
    where = TicketFilter(
        status=status,  # type: ignore[arg-type]
        unit=query.get("unit"),
        category=query.get("category"),
        region=query.get("region"),
        overdue_at=call.desk.clock() if query.get("overdue") in ("1", "true") else None,
        limit=limit,
        offset=offset,
    )
    return await call.desk.list(call.actor, where)


async def show_ticket(call: ApiRequest) -> dict[str, Any]:
    return await call.desk.show(call.match("number"), call.actor)


async def act_on_ticket(call: ApiRequest) -> dict[str, Any]:
    return await call.desk.act(call.match("number"), call.match("command"), call.body, call.actor)


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
                shown = await call.desk.attach(
                    call.match("number"), part.filename or "", _chunks(part), call.actor, reason
                )
                return web.json_response(shown, status=201, dumps=_dumps)
    except (ValueError, HttpProcessingError) as exc:
        raise TicketError("bad-multipart", f"multipart body is malformed: {exc}", 400) from None
    raise invalid("file", "缺少文件字段 file")


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(256 * 1024):
        yield chunk


async def download_attachment(call: ApiRequest) -> web.FileResponse:
    path, file = await call.desk.attachment(call.match("number"), call.match("sha256"), call.actor)
    return web.FileResponse(
        path,
        headers={
            "Content-Type": file["content_type"],
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(file['name'])}",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def ticket_duplicates(call: ApiRequest) -> list[dict[str, Any]]:
    return await call.desk.duplicates(call.match("number"), call.actor)


async def ticket_audit(call: ApiRequest) -> list[dict[str, Any]]:
    return await call.desk.audit_trail(call.match("number"), call.actor)


async def list_units(call: ApiRequest) -> list[dict[str, Any]]:
    return await call.desk.directory.units()


async def show_unit(call: ApiRequest) -> dict[str, Any]:
    return await call.desk.directory.unit(call.match("code"))


async def create_unit(call: ApiRequest) -> dict[str, Any]:
    return await call.desk.directory.create_unit(call.body)


async def update_unit(call: ApiRequest) -> dict[str, Any]:
    return await call.desk.directory.update_unit(call.match("code"), call.body)


async def list_categories(call: ApiRequest) -> list[dict[str, Any]]:
    return await call.desk.directory.tree(CategoryRow)


async def list_regions(call: ApiRequest) -> list[dict[str, Any]]:
    return await call.desk.directory.tree(RegionRow)


async def suggest_unit(call: ApiRequest) -> dict[str, Any]:
    query = call.request.query
    for name in ("category", "region"):
        if not query.get(name):
            raise invalid(name, "is required")
    unit = await call.desk.directory.suggest_unit(query["category"], query["region"])
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
    await call.desk.store.set_calendar_days([DayOverride(day, body["is_workday"], note)])
    await call.desk.reload_calendar()
    return {"day": day.isoformat(), "is_workday": body["is_workday"], "note": note}


async def declare_year(call: ApiRequest) -> dict[str, Any]:
    year = whole_number("year", call.match("year"), 0, *YEARS)
    await call.desk.store.set_calendar_days([], declare_year=year)
    await call.desk.reload_calendar()
    return {"year": year, "known": True}


async def export_ticket(call: ApiRequest) -> dict[str, Any]:
    shown = await call.desk.show(call.match("number"), call.actor)
    return exchange.to_exchange(shown, call.request.app[SENDER_KEY])


async def receive_forwarded(call: ApiRequest) -> web.Response:
    return _taken_in(*await call.desk.take_in(exchange.intake_from_exchange(call.body), call.actor))


async def receive_result(call: ApiRequest) -> dict[str, Any]:
    return await call.desk.receive_result(call.match("number"), call.body, call.actor)


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
    today = call.desk.clock().astimezone(call.desk.policy.timezone).date()
    limit = whole_number("limit", call.request.query.get("limit"), 10, 1, 50)
    return await call.desk.kb.search(query, today, limit)


async def create_article(call: ApiRequest) -> dict[str, Any]:
    return await call.desk.kb.create(call.body, call.actor, call.desk.clock())


async def show_article(call: ApiRequest) -> dict[str, Any]:
    return await call.desk.kb.get(_article_id(call))


async def update_article(call: ApiRequest) -> dict[str, Any]:
    return await call.desk.kb.update(_article_id(call), call.body, call.actor, call.desk.clock())


async def announce_policy_change(call: ApiRequest) -> dict[str, Any]:
    return await call.desk.kb.policy_change(call.body, call.actor, call.desk.clock())


async def kb_reminders(call: ApiRequest) -> list[dict[str, Any]]:
    return await call.desk.kb.reminders(call.actor, call.desk.clock())


async def kpi_report(call: ApiRequest) -> Any:
    query = call.request.query
    try:
        start = date.fromisoformat(query.get("from", ""))
        end = date.fromisoformat(query.get("to", ""))
    except ValueError:
        raise invalid("from", "from and to must be dates like 2026-11-01") from None
    for name, day in (("from", start), ("to", end)):
        _calendar_year(name, day.year)
    group = query.get("group", "unit")
    rows = await call.desk.kpi_report(group, start, end)
    if query.get("format") == "csv":
        return web.Response(
            text=kpi.to_csv(rows, group),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="kpi-{group}-{start}-{end}.csv"'},
        )
    return rows


async def show_policy(call: ApiRequest) -> dict[str, Any]:
    return call.desk.policy.to_json()


_COMMAND_BODY = {
    "type": "object",
    "properties": {
        "reason": {"type": "string"},
        "unit": {"type": "string"},
        "assist_units": {"type": "array", "items": {"type": "string"}},
        "text": {"type": "string"},
        "answer": {"type": "string"},
        "result": {
            "type": "string",
            "enum": ["satisfied", "basically_satisfied", "dissatisfied", "unreachable"],
        },
        "unit_fault": {"type": "boolean"},
        "verdict": {"type": "string", "enum": ["reasonable", "unreasonable"]},
        "rejection": {"type": "string"},
        "into": {"type": "string"},
        "complex": {"type": "boolean"},
        "urgent": {"type": "boolean"},
    },
}
_TICKET_TYPE = {"type": "string", "enum": [v for t in TicketType for v in (t.value, t.label)]}
_SAID = {"type": "string", "pattern": r"\S"}  # required text: something besides spaces
_INTAKE_BODY = {
    "type": "object",
    "required": ["type", "description", "category", "region"],
    "properties": {
        "type": _TICKET_TYPE,
        "channel": {
            "type": "string",
            "enum": [v for c in Channel for v in (c.value, c.label)],
            "default": "phone",
        },
        "description": _SAID | {"maxLength": 5000},
        "category": _SAID,
        "region": _SAID,
        "caller_name": {"type": "string"},
        "caller_phone": {"type": "string", "pattern": PHONE.pattern},
        "callback_phone": {"type": "string", "pattern": PHONE.pattern},
        "address": {"type": "string"},
        "confidential": {"type": "boolean"},
        "share_number": {"type": "boolean", "description": "the caller agreed that units may see the number"},
        "urgent": {"type": "boolean"},
        "call_id": {"type": "string"},
        "attachments": {
            "type": "array",
            "items": {"type": "object", "required": ["name"], "properties": {"name": _SAID}},
        },
        "source": {"type": "string"},
        "external_id": {
            "type": "string",
            "description": "the sender's id; a repeat returns the first ticket",
        },
    },
}
_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_ARTICLE_BODY = {
    "type": "object",
    "required": ["question", "answer", "category", "effective_from"],
    "properties": {
        "question": {"type": "string"},
        "answer": {"type": "string"},
        "category": {"type": "string"},
        "unit": {
            "type": "string",
            "description": "owning unit: required from the platform's roles; a unit's own",
        },
        "effective_from": _DATE,
        "expires_on": _DATE | {"description": "after effective_from"},
        "source_document": {"type": "string"},
    },
}
_UNIT_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        key: {"type": "string", "minLength": 1, "maxLength": limit, "pattern": r"\S"}
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

ROUTES: list[Route] = [
    Route(
        "POST", "/api/tickets", create_ticket, PLATFORM, "受理: take in a ticket", _INTAKE_BODY, status=201
    ),
    Route(
        "POST",
        "/api/intake/{channel}",
        receive_message,
        PLATFORM,
        "a citizen's message from the SMS or WeChat gateway (channel sms|wechat), signed with "
        "X-Hotline-Timestamp and X-Hotline-Signature: sha256=HMAC(secret, timestamp.body); "
        "idempotent on message_id",
        {
            "type": "object",
            "required": ["message_id", "text"],
            "properties": {
                "message_id": {"type": "string"},
                "text": {"type": "string"},
                "phone": {"type": "string"},
                "name": {"type": "string"},
                "type": {"type": "string"},
                "category": {"type": "string"},
                "region": {"type": "string"},
                "address": {"type": "string"},
                "attachments": {"type": "array", "items": {"type": "object"}},
            },
        },
        status=201,
        signed=True,
    ),
    Route(
        "GET",
        "/api/tickets",
        list_tickets,
        EVERYONE,
        "list tickets (units: only their own)",
        query=("status", "unit", "category", "region", "overdue", "limit", "offset"),
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
        EVERYONE,
        "attach a file (photo, PDF, office document, audio, video; 20 MB at most) as multipart field file",
        status=201,
        upload=True,
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
        EVERYONE,
        "a workflow command: " + ", ".join(sorted(COMMANDS)),
        _COMMAND_BODY,
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
    Route("POST", "/api/units", create_unit, ADMINS, "add a unit", _UNIT_BODY, status=201),
    Route("GET", "/api/units/{code}", show_unit, EVERYONE, "one unit"),
    Route("PATCH", "/api/units/{code}", update_unit, ADMINS, "rename, move or retire a unit", _UNIT_CHANGE),
    Route("GET", "/api/categories", list_categories, EVERYONE, "the topic tree"),
    Route("GET", "/api/regions", list_regions, EVERYONE, "the region tree"),
    Route(
        "GET",
        "/api/routing/suggest",
        suggest_unit,
        PLATFORM,
        "派单目录: the unit for a category and region",
        query=("category", "region"),
    ),
    Route(
        "GET",
        "/api/kb",
        search_kb,
        EVERYONE,
        "search the knowledge base (articles in force today)",
        query=("q", "limit"),
    ),
    Route(
        "POST",
        "/api/kb",
        create_article,
        EVERYONE,
        "add an article (units: their own)",
        _ARTICLE_BODY,
        status=201,
    ),
    Route("GET", r"/api/kb/{id:\d+}", show_article, EVERYONE, "an article with all its versions"),
    Route("PUT", r"/api/kb/{id:\d+}", update_article, EVERYONE, "a new version of an article", _ARTICLE_BODY),
    Route(
        "POST",
        "/api/kb/policy-changes",
        announce_policy_change,
        frozenset({Role.SUPERVISOR, Role.ADMIN}),
        "a policy changed: articles in these categories are due for review in 5 working days",
        {
            "type": "object",
            "required": ["title", "categories"],
            "properties": {
                "title": {"type": "string", "pattern": r"\S"},
                "categories": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            },
        },
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
                "description": _SAID | {"maxLength": 5000},
                "category": _SAID,
                "region": _SAID,
                "sender": {"type": "string", "pattern": r"\S", "maxLength": 40},
                "id": {"type": "string", "pattern": r"\S", "maxLength": 80},
                "caller": {"type": "object"},
            },
        },
        status=201,
    ),
    Route(
        "POST",
        "/api/exchange/tickets/{number}/result",
        receive_result,
        frozenset({Role.UNIT}),
        "another platform's result for a ticket forwarded to it; idempotent on result_id",
        {"type": "object", "required": ["format", "result_id", "text"]},
    ),
    Route(
        "GET",
        "/api/reports/kpi",
        kpi_report,
        frozenset({Role.SUPERVISOR, Role.ADMIN}),
        "KPIs by unit, category, region, day or month (format=csv for a spreadsheet)",
        query=("group", "from", "to", "format"),
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
    ),
    Route(
        "PUT",
        "/api/calendar/years/{year}",
        declare_year,
        ADMINS,
        "declare a year's holidays complete, so its deadlines are no longer estimates",
    ),
]


# ------------------------------------------------------------------ plumbing


def add_ticket_routes(
    app: web.Application,
    desk: TicketDesk,
    users: Users,
    platform_id: str = "hotline",
    webhook_secret: str = "",
    extra_routes: Sequence[Route] = (),
) -> None:
    """The ticket routes, and other packages' routes (agents) under the same auth, errors and OpenAPI."""
    app[DESK_KEY] = desk
    app[USERS_KEY] = users
    app[SENDER_KEY] = platform_id
    app[WEBHOOK_SECRET_KEY] = webhook_secret
    routes = [*ROUTES, *extra_routes]
    for route in routes:
        app.router.add_route(route.method, route.path, _endpoint(route))
    document = openapi(routes)

    async def serve_openapi(_request: web.Request) -> web.Response:
        return web.json_response(document, dumps=_dumps)

    app.router.add_get("/api/openapi.json", serve_openapi)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def error_response(error: TicketError) -> web.Response:
    return web.json_response(error.to_json(), status=error.status, dumps=_dumps)


def _endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        try:
            _refuse_nul_in_url(request)
            if route.signed:
                actor, body = GATEWAY, _parse_json(await _verified_body(request))
            else:
                actor = await _authenticate(request)
                body = _parse_json(await read_body(request)) if route.body is not None else None
            if actor.role not in route.roles:
                raise TicketError("forbidden", f"{actor.role.label}不能调用 {route.method} {route.path}", 403)
            result = await route.handler(ApiRequest(request, actor, body))
        except TicketError as error:
            return error_response(error)
        except web.HTTPRequestEntityTooLarge:
            return error_response(TicketError("body-too-large", "请求正文过大", 413))
        except Exception:
            log.exception("unexpected error in %s %s", route.method, request.path)
            return error_response(TicketError("internal", "服务器内部错误，已记录", 500))
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(result, status=route.status, dumps=_dumps)

    return endpoint


async def _authenticate(request: web.Request) -> Actor:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" and request.headers.get("Upgrade", "").lower() == "websocket":
        # A browser cannot set headers on a websocket; the token comes in the query instead.
        scheme, token = "bearer", request.query.get("access_token", "")
    if scheme.lower() != "bearer" or not token.strip():
        raise TicketError("unauthenticated", "缺少令牌：请在 Authorization 头中提供 Bearer 令牌", 401)
    actor = await request.app[USERS_KEY].authenticate(token.strip())
    if actor is None:
        raise TicketError("unauthenticated", "令牌无效或已停用", 401)
    return actor


async def read_body(request: web.Request) -> bytes:
    """A JSON body arrives whole within BODY_SECONDS; a client dripping it byte by byte holds no
    handler for longer."""
    try:
        async with asyncio.timeout(BODY_SECONDS):
            return await request.read()
    except TimeoutError:
        raise TicketError("body-too-slow", f"请求正文未在 {BODY_SECONDS} 秒内传完", 408) from None


async def _verified_body(request: web.Request) -> bytes:
    body = await read_body(request)
    webhooks.verify(
        request.app[WEBHOOK_SECRET_KEY],
        request.headers.get("X-Hotline-Timestamp", ""),
        request.headers.get("X-Hotline-Signature", ""),
        body,
        request.app[DESK_KEY].clock().timestamp(),
    )
    return body


def _parse_json(body: bytes) -> Any:
    if not body:
        return {}
    try:
        value = json.loads(body.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TicketError("bad-json", f"request body is not JSON: {exc}", 400) from None
    except RecursionError:
        raise TicketError("bad-json", "request body is nested too deeply", 400) from None
    _refuse_nul(value, "body")
    return value


def _refuse_nul(value: Any, where: str) -> None:
    """A NUL character is never text a person wrote; PostgreSQL cannot even store it."""
    if isinstance(value, str):
        if "\x00" in value:
            raise invalid(where, "must not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key, where)
            _refuse_nul(item, str(key))
    elif isinstance(value, list):
        for item in value:
            _refuse_nul(item, where)


def _refuse_nul_in_url(request: web.Request) -> None:
    if any(
        "\x00" in text
        for text in [*request.match_info.values(), *request.query.keys(), *request.query.values()]
    ):
        raise TicketError("bad-request", "the address contains a NUL character", 400)


def whole_number(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    """A query or path number, within what the store can hold and a person would ask for."""
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, f"must be a whole number, got {raw[:30]!r}") from None
    if not low <= value <= high:
        raise invalid(name, f"must be between {low} and {high}")
    return value


#: The server refuses NUL characters in every text (``_refuse_nul``); the description says so too.
NO_NUL = r"^[^\u0000]*$"


def _text_without_nul(schema: Any) -> Any:
    """A copy of ``schema`` whose every string without a pattern of its own refuses NUL."""
    if isinstance(schema, list):
        return [_text_without_nul(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: _text_without_nul(value) for key, value in schema.items()}
    if copy.get("type") == "string" and "pattern" not in copy and "enum" not in copy and "format" not in copy:
        copy["pattern"] = NO_NUL
    if copy.get("type") == "object":
        copy.setdefault("propertyNames", {"pattern": NO_NUL})
    return copy


def openapi(routes: list[Route]) -> dict[str, Any]:
    error = {"$ref": "#/components/schemas/Error"}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "summary": route.summary,
            "operationId": f"{route.method.lower()}_{route.handler.__name__}",
            "x-roles": sorted(role.value for role in route.roles),
            "security": [{"gatewaySignature": []} if route.signed else {"bearer": []}],
            "parameters": [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": f"^{pattern}$" if pattern else NO_NUL},
                }
                for name, pattern in PATH_PARAMETER.findall(route.path)
            ]
            + [
                {"name": name, "in": "query", "schema": {"type": "string", "pattern": NO_NUL}}
                for name in route.query
            ],
            "responses": {
                str(route.status): {"description": "OK"},
                **{
                    str(code): {"description": text, "content": {"application/json": {"schema": error}}}
                    for code, text in (
                        (400, "bad JSON"),
                        (401, "no or bad token"),
                        (403, "role or unit not allowed"),
                        (404, "not found"),
                        (409, "not allowed now (error_id says why)"),
                        (422, "invalid field"),
                    )
                },
            },
        }
        if route.body is not None:
            schema = _text_without_nul(route.body)
            operation["requestBody"] = {"content": {"application/json": {"schema": schema}}}
        if route.upload:
            form = {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "reason": {"type": "string"},
                },
            }
            operation["requestBody"] = {"content": {"multipart/form-data": {"schema": form}}}
        paths.setdefault(PATH_PARAMETER.sub(r"{\1}", route.path), {})[route.method.lower()] = operation
    paths["/healthz"] = {
        "get": {
            "summary": "health: 200 when AMI, Redis and the database answer, 503 naming what does not",
            "operationId": "get_healthz",
            "security": [],
            "responses": {"200": {"description": "all answer"}, "503": {"description": "something is down"}},
        }
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "hotline 12345 工单 API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "gatewaySignature": {"type": "apiKey", "in": "header", "name": "X-Hotline-Signature"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error_id", "message"],
                    "properties": {"error_id": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        },
    }
