"""The API kernel: one table of routes, each naming the roles that may call it, from which the OpenAPI
description is built; bearer-token authentication; the JSON error shape.

Every capability lists its routes here (``Route``) and the composition root
registers them all with ``add_routes``. Refusals come back as ``{"error_id",
"message", …}`` with a 4xx status, never as a stack trace. The caller's role is
checked from the headers, before any body is read; then bodies are parsed here
and nowhere else, and whatever Python's JSON cannot turn into text and numbers
(deep nesting, NaN, integers past Python's 4,300 digits, bytes that are not
UTF-8, lone surrogates), NUL characters and bodies dripped slowly are refused
before a handler sees them.

The description says what the handlers accept: each route declares its body's
schema, its path and query parameters (``Param``), and the fields its handler
checks beyond what a schema can say (``checked``: a code that must name a record,
a rule across two fields); the handlers refuse what it forbids.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from functools import partial
from typing import Any

from aiohttp import web

from hotline.kernel.api.errors import ApiError, invalid
from hotline.kernel.api.identity import PLATFORM_ROLES, Actor, Role
from hotline.kernel.api.users import Users
from hotline.kernel.api.web import DOCUMENTED_METHODS_KEY

log = logging.getLogger(__name__)
#: ``{id:\d+}`` in aiohttp is ``{id}`` in OpenAPI.
PATH_PARAMETER = re.compile(r"\{(\w+)(?::((?:[^{}]|\{[^{}]*\})+))?\}")
EVERYONE = frozenset(Role)
PLATFORM = PLATFORM_ROLES
ADMINS = frozenset({Role.ADMIN})
MANAGERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
#: How long a JSON body may take to arrive (uploads stream, and are bounded by size instead).
BODY_SECONDS = 30.0
Handler = Callable[["ApiRequest"], Awaitable[Any]]
Verifier = Callable[[web.Request, bytes], Actor]
USERS_KEY = web.AppKey("users", Users)
Schema = dict[str, Any]
#: Deeper than any body the API takes: refused before a handler walks it.
MAX_DEPTH = 32
#: Text without NUL: the server refuses NUL in every text (``_refuse_bad_text``), the description too.
NO_NUL = r"^[^\u0000]*$"
#: Python's whitespace (``\s``, ``str.strip``), spelled out: JSON Schema's ``\s`` (ECMA-262's) is another.
SPACES = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: Required text: something besides spaces, and no NUL.
SAID = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
#: Any JSON value without NUL in its text, however nested: what a schema leaves open.
ANY_JSON = {"$ref": "#/components/schemas/Json"}
#: The deployment's time zone (its policy's): every moment an answer holds is written in it, whichever
#: store it came from (the database hands moments back in UTC).
ZONE_KEY = web.AppKey("zone", tzinfo)


@dataclass(frozen=True)
class ApiRequest:
    """One request, already authenticated and parsed."""

    request: web.Request
    actor: Actor
    body: Any

    def match(self, name: str) -> str:
        return self.request.match_info[name]


@dataclass(frozen=True)
class Param:
    """A path or query parameter as the description states it; the handler refuses what it forbids."""

    schema: Schema
    required: bool = False


def text(required: bool = False) -> Param:
    return Param({"type": "string", "pattern": NO_NUL}, required)


def said(required: bool = False) -> Param:
    """Text that says something: not empty, not only spaces."""
    return Param({"type": "string", "pattern": SAID}, required)


def one_of(values: Sequence[str], required: bool = False) -> Param:
    return Param({"type": "string", "enum": sorted(values)}, required)


def whole(low: int, high: int, required: bool = False) -> Param:
    """A whole number as ``whole_number`` reads it."""
    return Param({"type": "integer", "minimum": low, "maximum": high}, required)


def day_pattern(years: str = r"\d{4}") -> str:
    """A day ``YYYY-MM-DD`` whose year matches ``years`` (a regular expression)."""
    return rf"(?:{years})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"


def day(years: str = r"\d{4}", required: bool = False) -> Param:
    return Param({"type": "string", "format": "date", "pattern": f"^{day_pattern(years)}$"}, required)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    roles: frozenset[Role]
    summary: str
    body: Schema | None = None
    #: The query parameters the handler reads (``text()`` for any text).
    query: Mapping[str, Param] = field(default_factory=dict)
    status: int = 200
    upload: bool = False  # a multipart/form-data body with a ``file`` field
    #: A signed channel (a gateway's HMAC) instead of a bearer token: checks the raw body, names the sender.
    signed_by: Verifier | None = None
    #: What the route creates: the path parameter that names it, and where its body says the name. The
    #: OpenAPI links the answer to every operation on it, so clients and the fuzzer can follow them.
    creates: tuple[str, str] | None = None
    #: Path parameters beyond the path's own patterns (the commands, an id's range); a value the
    #: description forbids still reaches the handler, whose refusal names the valid ones.
    path_params: Mapping[str, Param] = field(default_factory=dict)
    #: What the handler checks beyond the schema, by field: a code that must name a record, a rule across
    #: fields or roles. A refusal of these is a 422 naming the field.
    checked: Mapping[str, str] = field(default_factory=dict)
    #: Other answers than ``status`` it gives, and when (a repeat finding what the first request made).
    answers: Mapping[int, str] = field(default_factory=dict)
    #: A websocket: answered 101, or 426 to a plain request.
    websocket: bool = False


def add_routes(app: web.Application, users: Users, routes: Sequence[Route], title: str, zone: tzinfo) -> None:
    """Register ``routes`` under one authentication, error shape and OpenAPI description; the answers
    give their moments in ``zone``."""
    app[USERS_KEY] = users
    app[ZONE_KEY] = zone
    for route in routes:
        app.router.add_route(route.method, route.path, _endpoint(route))
    app[DOCUMENTED_METHODS_KEY] = MethodTable(routes)
    document = openapi(list(routes), title)

    async def serve_openapi(_request: web.Request) -> web.Response:
        return web.json_response(document, dumps=dumps)

    app.router.add_get("/api/openapi.json", serve_openapi)


def dumps(value: Any, zone: tzinfo | None = None) -> str:
    """JSON, with each aware moment written in ``zone`` when one is given."""
    return json.dumps(value, ensure_ascii=False, default=partial(_default, zone=zone))


def _default(value: Any, zone: tzinfo | None = None) -> Any:
    if isinstance(value, datetime) and zone is not None and value.tzinfo is not None:
        return value.astimezone(zone).isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def error_response(error: ApiError) -> web.Response:
    return web.json_response(error.to_json(), status=error.status, dumps=dumps)


def _endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        _refuse_other_paths(route, request)
        try:
            _refuse_nul_in_url(request)
            raw: bytes | None = None
            if route.signed_by is not None:  # a gateway signs its body: read, then the signature checked
                raw = await read_body(request)
                actor = route.signed_by(request, raw)
            else:
                actor = await _authenticate(request)
            _require_role(route, actor)
            if raw is None and route.body is not None:
                raw = await read_body(request)
            body = _parse_json(raw) if raw is not None else None
            result = await route.handler(ApiRequest(request, actor, body))
        except ApiError as error:
            return error_response(error)
        except web.HTTPRequestEntityTooLarge:
            return error_response(ApiError("body-too-large", "请求正文过大", 413))
        except Exception:
            log.exception("unexpected error in %s %s", route.method, request.path)
            return error_response(ApiError("internal", "服务器内部错误，已记录", 500))
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(
            result, status=route.status, dumps=partial(dumps, zone=request.app[ZONE_KEY])
        )

    return endpoint


def _refuse_other_paths(route: Route, request: web.Request) -> None:
    """aiohttp hands ``PATCH /api/monitors/audit`` to ``/api/monitors/{monitor_id}``; the description has
    that path as ``/api/monitors/audit``, which takes GET only: answered as the description says. Only a
    route with a parameter can be handed another path's request."""
    if "{" not in route.path:
        return
    methods = request.app[DOCUMENTED_METHODS_KEY](request.path)
    if methods is not None and route.method not in methods:
        raise web.HTTPMethodNotAllowed(request.method, methods)  # answered by web.json_errors


def _require_role(route: Route, actor: Actor) -> None:
    """The roles the description lists for the route (``x-roles``) are the ones let through."""
    if actor.role not in route.roles:
        allowed = "、".join(role.label for role in Role if role in route.roles)
        raise ApiError("forbidden", f"{actor.role.label}不能调用此接口（可调用：{allowed}）", 403)


async def _authenticate(request: web.Request) -> Actor:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" and request.headers.get("Upgrade", "").lower() == "websocket":
        # A browser cannot set headers on a websocket; the token comes in the query instead.
        scheme, token = "bearer", request.query.get("access_token", "")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("unauthenticated", "缺少令牌：请在 Authorization 头中提供 Bearer 令牌", 401)
    actor = await request.app[USERS_KEY].authenticate(token.strip())
    if actor is None:
        raise ApiError("unauthenticated", "令牌无效或已停用", 401)
    return actor


async def read_body(request: web.Request) -> bytes:
    """A JSON body arrives whole within BODY_SECONDS; a client dripping it byte by byte holds no
    handler for longer."""
    try:
        async with asyncio.timeout(BODY_SECONDS):
            return await request.read()
    except TimeoutError:
        raise ApiError("body-too-slow", f"请求正文未在 {BODY_SECONDS} 秒内传完", 408) from None


def _parse_json(body: bytes) -> Any:
    """The one place a request's JSON is parsed: anything Python cannot convert is a 400 ``bad-json``."""
    if not body:
        return {}
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise _bad_json("嵌套过深") from None
    except json.JSONDecodeError as exc:
        raise _bad_json(f"第 {exc.pos + 1} 个字符处：{exc.msg}") from None
    except UnicodeDecodeError:
        raise _bad_json("须为 UTF-8 编码") from None
    except ValueError:  # an integer of more than 4,300 digits, NaN, a number beyond a float
        raise _bad_json("含有无法处理的数值") from None
    _refuse_bad_text(value)
    return value


def _bad_json(why: str) -> ApiError:
    return ApiError("bad-json", f"请求正文不是可处理的 JSON：{why}", 400)


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: numbers JSON itself does not have


def _finite(digits: str) -> float | int:
    """A number with a point or an exponent; whole ones (``5.0``, ``1e3``) are integers, as JSON Schema
    reads them, so a handler asking for an ``int`` takes what the description calls an integer."""
    number = float(digits)
    if not math.isfinite(number):
        raise ValueError(digits)
    return int(number) if number.is_integer() else number


def _refuse_bad_text(value: Any) -> None:
    """A NUL character is never text a person wrote (PostgreSQL cannot even store it); a lone surrogate
    is no character at all (no store can write it as UTF-8). Walked without recursion, nesting bounded."""
    pending = [(value, "body", 0)]
    while pending:
        item, where, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise _bad_json(f"嵌套超过 {MAX_DEPTH} 层")
        if isinstance(item, str):
            _refuse_bad_string(item, where)
        elif isinstance(item, dict):
            for key, inner in item.items():
                _refuse_bad_string(key, where)
                pending.append((inner, key, depth + 1))
        elif isinstance(item, list):
            pending.extend((inner, where, depth + 1) for inner in item)


def _refuse_bad_string(value: str, where: str) -> None:
    if "\x00" in value:
        raise invalid(where, "must not contain NUL characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _bad_json("含有单独的代理项（不是字符）") from None


def _refuse_nul_in_url(request: web.Request) -> None:
    if any(
        "\x00" in text
        for text in [*request.match_info.values(), *request.query.keys(), *request.query.values()]
    ):
        raise ApiError("bad-request", "the address contains a NUL character", 400)


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


def portable(pattern: str) -> str:
    r"""A Python regular expression (as the handlers match) that JSON Schema's dialect, ECMA-262, reads the
    same: ``\s``, ``\S`` and ``\d`` match more characters in Python, so they are spelled out; and whatever
    it leaves open (``[^…]``, ``.``, ``\S``) leaves out NUL, which the server refuses in every text."""
    out, in_class, at = [], False, 0
    while at < len(pattern):
        two, one = pattern[at : at + 2], pattern[at]
        if two == r"\s":
            out.append(SPACES if in_class else f"[{SPACES}]")
        elif two == r"\S" and not in_class:
            out.append(f"[^{SPACES}\\u0000]")
        elif two == r"\d":
            out.append("0-9" if in_class else "[0-9]")
        elif two == "[^" and not in_class:
            out.append("[^\\u0000")
            in_class = True
        elif one == "\\":
            out.append(two)
        else:
            out.append("[^\\n\\u0000]" if one == "." and not in_class else one)
            in_class = (in_class or one == "[") and not (in_class and one == "]")
            at += 1
            continue
        at += 2
    return "".join(out)


def _described(schema: Any) -> Any:
    """A copy of a body's or a parameter's ``schema`` that says what ``_refuse_bad_text`` refuses (every
    string without a pattern of its own refuses NUL, and whatever the schema leaves open is JSON without
    NUL), its patterns as JSON Schema reads them (``portable``)."""
    if isinstance(schema, list):
        return [_described(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: _described(value) for key, value in schema.items()}
    if isinstance(copy.get("pattern"), str):
        copy["pattern"] = portable(copy["pattern"])
    types = copy.get("type", [])
    types = {types} if isinstance(types, str) else set(types)
    if "string" in types and not {"pattern", "enum", "format"} & copy.keys():
        copy["pattern"] = NO_NUL
    if "object" in types:
        copy.setdefault("propertyNames", {"pattern": NO_NUL})
        copy.setdefault("additionalProperties", ANY_JSON)
    if "array" in types:
        copy.setdefault("items", ANY_JSON)
    return copy


def operation_id(route: Route) -> str:
    return f"{route.method.lower()}_{route.handler.__name__}"


def _links(route: Route, routes: list[Route]) -> dict[str, Any]:
    if route.creates is None:
        return {}
    name, pointer = route.creates
    links = {
        operation_id(other): {
            "operationId": operation_id(other),
            "parameters": {name: f"$response.body#{pointer}"},
        }
        for other in routes
        if other is not route and name in (n for n, _ in PATH_PARAMETER.findall(other.path))
    }
    return {"links": links} if links else {}


def _path_schema(route: Route, name: str, pattern: str) -> Schema:
    if name in route.path_params:
        return _described(route.path_params[name].schema)
    return _described({"type": "string", "pattern": f"^{pattern}$" if pattern else NO_NUL})


def _parameters(route: Route) -> list[dict[str, Any]]:
    path = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(route, name, pattern)}
        for name, pattern in PATH_PARAMETER.findall(route.path)
    ]
    query = dict(route.query)
    if route.websocket:  # what ``stream_events`` and ``_authenticate`` read on a websocket
        query["since"] = Param({"type": "string", "pattern": r"^\d{1,20}(-\d{1,20})?$"})
        query["access_token"] = text()
    return path + [
        {"name": name, "in": "query", "required": param.required, "schema": _described(param.schema)}
        for name, param in query.items()
    ]


#: What every route may answer besides its own success, and what some answer because of what they are.
REFUSALS = {
    400: "bad JSON, or a NUL in the address",
    401: "no or bad token",
    403: "role or unit not allowed",
    404: "not found",
    409: "not allowed now (error_id says why)",
    422: "invalid field",
}
BODY_REFUSALS = {408: "the body did not arrive in time", 413: "the body is too large"}
UPLOAD_REFUSALS = {413: "the file is too large", 415: "not multipart/form-data"}
SIGNED_REFUSALS = {503: "the deployment has no gateway secret"}
WEBSOCKET_REFUSALS = {
    426: "not a websocket request",
    429: "too many sockets open for this user",
    503: "the event service is unavailable",
}


def _responses(route: Route, routes: list[Route]) -> dict[str, Any]:
    error = {"$ref": "#/components/schemas/Error"}
    success = {101: "the event stream"} if route.websocket else {route.status: "OK"}
    answers: dict[int, str] = {**success, **route.answers}
    refusals = {**REFUSALS}
    if route.body is not None or route.signed_by is not None:
        refusals |= BODY_REFUSALS
    if route.signed_by is not None:
        refusals |= SIGNED_REFUSALS
    if route.upload:
        refusals |= UPLOAD_REFUSALS
    if route.websocket:
        refusals |= WEBSOCKET_REFUSALS
    if route.checked:
        refusals[422] += "; beyond the schema: " + "; ".join(f"{k}: {v}" for k, v in route.checked.items())
    return {
        **{
            str(code): {"description": text, **(_links(route, routes) if code == route.status else {})}
            for code, text in answers.items()
        },
        **{
            str(code): {"description": text, "content": {"application/json": {"schema": error}}}
            for code, text in sorted(refusals.items())
        },
    }


#: A multipart upload: the file, and why; other fields are ignored (their names plain ASCII, as aiohttp
#: reads a part's header).
UPLOAD_FORM = {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}, "reason": {"type": "string"}},
    "propertyNames": {"pattern": "^[A-Za-z0-9_.-]+$"},
}


def openapi(routes: list[Route], title: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "summary": route.summary,
            "operationId": operation_id(route),
            "x-roles": sorted(role.value for role in route.roles),
            "security": [{"gatewaySignature": []} if route.signed_by else {"bearer": []}],
            "parameters": _parameters(route),
            "responses": _responses(route, routes),
        }
        if route.checked:
            operation["x-checked"] = dict(route.checked)
        if route.body is not None:
            operation["requestBody"] = {  # an empty body is ``{}``: required when ``{}`` is refused
                "required": bool(route.body.get("required") or route.body.get("minProperties")),
                "content": {"application/json": {"schema": _described(route.body)}},
            }
        if route.upload:
            operation["requestBody"] = {
                "required": True,
                "content": {"multipart/form-data": {"schema": UPLOAD_FORM}},
            }
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
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1"},
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
                },
                "Json": {
                    "description": f"any JSON without NUL in its text, nested at most {MAX_DEPTH} deep",
                    "type": ["string", "number", "boolean", "null", "array", "object"],
                    "pattern": NO_NUL,
                    "items": ANY_JSON,
                    "propertyNames": {"pattern": NO_NUL},
                    "additionalProperties": ANY_JSON,
                },
            },
        },
    }


class MethodTable:
    """The methods the description has for a path: those of its most specific template (a fixed segment
    before a parameter, as OpenAPI matches paths), or None when no route of the table fits it. aiohttp
    lists every method of every route the path fits, the neighbours' too, and routes by pattern alone."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self._templates = [(_template(route), _specificity(route), route.method) for route in routes]

    def __call__(self, path: str) -> list[str] | None:
        fitting = [(rank, method) for template, rank, method in self._templates if template.fullmatch(path)]
        if not fitting:
            return None
        most_specific = min(rank for rank, _ in fitting)
        return sorted({method for rank, method in fitting if rank == most_specific})


def _template(route: Route) -> re.Pattern[str]:
    """The paths the route's description covers: its parameters' enums and patterns respected."""
    pieces, last = [], 0
    for found in PATH_PARAMETER.finditer(route.path):
        name, pattern = found.group(1), found.group(2)
        schema = route.path_params[name].schema if name in route.path_params else {}
        pieces.append(re.escape(route.path[last : found.start()]))
        if "enum" in schema:
            pieces.append("(?:" + "|".join(re.escape(value) for value in schema["enum"]) + ")")
        elif "pattern" in schema:
            pieces.append(f"(?:{schema['pattern'].removeprefix('^').removesuffix('$')})")
        else:
            pieces.append(f"(?:{pattern})" if pattern else "[^{}/]+")
        last = found.end()
    pieces.append(re.escape(route.path[last:]))
    return re.compile("".join(pieces))


def _specificity(route: Route) -> tuple[bool, ...]:
    """Per segment, whether it is a parameter: the smaller, the more specific."""
    return tuple("{" in segment for segment in PATH_PARAMETER.sub("{}", route.path).split("/"))
