"""The API kernel: one table of routes, each naming the roles that may call it, from which the OpenAPI
description is built; bearer-token authentication; the JSON error shape.

Every capability lists its routes here (``Route``) and the composition root
registers them all with ``add_routes``. Refusals come back as ``{"error_id",
"message", …}`` with a 4xx status, never as a stack trace; bad input (deep
JSON, NUL characters, huge numbers, bodies dripped slowly) is refused before a
handler sees it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from aiohttp import web

from kernel.api.errors import ApiError, invalid
from kernel.api.identity import PLATFORM_ROLES, Actor, Role
from kernel.api.users import Users

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


@dataclass(frozen=True)
class ApiRequest:
    """One request, already authenticated and parsed."""

    request: web.Request
    actor: Actor
    body: Any

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
    #: A signed channel (a gateway's HMAC) instead of a bearer token: checks the raw body, names the sender.
    signed_by: Verifier | None = None
    #: What the route creates: the path parameter that names it, and where its body says the name. The
    #: OpenAPI links the answer to every operation on it, so clients and the fuzzer can follow them.
    creates: tuple[str, str] | None = None
    #: The values a path parameter may take, described as an enum; any other still reaches the handler,
    #: whose refusal names the valid ones.
    choices: Mapping[str, Sequence[str]] = field(default_factory=dict)


def add_routes(app: web.Application, users: Users, routes: Sequence[Route], title: str) -> None:
    """Register ``routes`` under one authentication, error shape and OpenAPI description."""
    app[USERS_KEY] = users
    for route in routes:
        app.router.add_route(route.method, route.path, _endpoint(route))
    document = openapi(list(routes), title)

    async def serve_openapi(_request: web.Request) -> web.Response:
        return web.json_response(document, dumps=dumps)

    app.router.add_get("/api/openapi.json", serve_openapi)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def error_response(error: ApiError) -> web.Response:
    return web.json_response(error.to_json(), status=error.status, dumps=dumps)


def _endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        try:
            _refuse_nul_in_url(request)
            if route.signed_by is not None:
                raw = await read_body(request)
                actor, body = route.signed_by(request, raw), _parse_json(raw)
            else:
                actor = await _authenticate(request)
                body = _parse_json(await read_body(request)) if route.body is not None else None
            if actor.role not in route.roles:
                raise ApiError("forbidden", f"{actor.role.label}不能调用 {route.method} {route.path}", 403)
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
        return web.json_response(result, status=route.status, dumps=dumps)

    return endpoint


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
    if not body:
        return {}
    try:
        value = json.loads(body.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError("bad-json", f"request body is not JSON: {exc}", 400) from None
    except RecursionError:
        raise ApiError("bad-json", "request body is nested too deeply", 400) from None
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


def openapi(routes: list[Route], title: str) -> dict[str, Any]:
    error = {"$ref": "#/components/schemas/Error"}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "summary": route.summary,
            "operationId": operation_id(route),
            "x-roles": sorted(role.value for role in route.roles),
            "security": [{"gatewaySignature": []} if route.signed_by else {"bearer": []}],
            "parameters": [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": sorted(route.choices[name])}
                    if name in route.choices
                    else {"type": "string", "pattern": f"^{pattern}$" if pattern else NO_NUL},
                }
                for name, pattern in PATH_PARAMETER.findall(route.path)
            ]
            + [
                {"name": name, "in": "query", "schema": {"type": "string", "pattern": NO_NUL}}
                for name in route.query
            ],
            "responses": {
                str(route.status): {"description": "OK", **_links(route, routes)},
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
                }
            },
        },
    }
