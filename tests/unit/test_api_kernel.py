"""The API kernel as a client meets it: bodies parsed in one place, the role checked before the body is
read, answers that say what the description says (methods, statuses, roles), and no internals shown."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.kernel.api.hub import EventHub
from hotline.kernel.api.identity import Actor, Role
from hotline.kernel.api.routes import (
    ADMINS,
    EVERYONE,
    SPACES,
    ApiRequest,
    Route,
    add_routes,
    one_of,
    portable,
)
from hotline.kernel.api.web import create_app

TOKENS = {"agent-token": Actor("1001", Role.AGENT), "admin-token": Actor("管理员", Role.ADMIN)}
AGENT = {"Authorization": "Bearer agent-token"}
ADMIN = {"Authorization": "Bearer admin-token"}


class TokenBook:
    """Users as the kernel asks them: a token names an actor or nobody."""

    async def authenticate(self, token: str) -> Actor | None:
        return TOKENS.get(token)


async def echo(call: ApiRequest) -> dict[str, Any]:
    return {"body": call.body}


async def show(call: ApiRequest) -> dict[str, Any]:
    return {"number": call.match("number")}


async def nothing(call: ApiRequest) -> dict[str, Any]:
    return {}


ROUTES = [
    Route(
        "POST",
        "/api/things",
        echo,
        EVERYONE,
        "anyone posts a thing",
        {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
        status=201,
    ),
    Route("POST", "/api/admin/things", echo, ADMINS, "administrators only", {"type": "object"}),
    Route("GET", "/api/things/{number}", show, EVERYONE, "one thing"),
    Route("GET", "/api/things/{number}/audit", show, ADMINS, "who read it"),
    Route(
        "POST",
        "/api/things/{number}/{command}",
        echo,
        EVERYONE,
        "a command on a thing",
        {"type": "object"},
        path_params={"command": one_of(("close", "open"))},
    ),
    Route("GET", r"/api/files/{sha256:[0-9a-f]{64}}", nothing, ADMINS, "a file, by its hash"),
]


@pytest.fixture
async def client():
    async def health() -> dict[str, bool]:
        return {}

    app = create_app(health, EventHub(redis=None))  # type: ignore[arg-type]
    add_routes(app, TokenBook(), ROUTES, "test API", UTC)  # type: ignore[arg-type]
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


#: Bodies Python's JSON cannot turn into the text and numbers a handler works with.
UNCONVERTIBLE = {
    "an integer of 4,301 digits": b'{"name": ' + b"9" * 4301 + b"}",
    "nesting deeper than the parser goes": b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "nesting deeper than a body needs": b'{"name": ' + b"[" * 900 + b"]" * 900 + b"}",
    "NaN": b'{"name": NaN}',
    "a number beyond a float": b'{"name": 1e999}',
    "bytes that are not UTF-8": b'{"name": "\xff\xfe"}',
    "a lone surrogate, which is no character": b'{"name": "\\ud800"}',
    "a lone surrogate in a key": b'{"\\udfff": "x", "name": "x"}',
    "a byte order mark": b'\xef\xbb\xbf{"name": "x"}',
}


@pytest.mark.parametrize("body", UNCONVERTIBLE.values(), ids=UNCONVERTIBLE.keys())
async def test_a_body_python_cannot_convert_is_a_400_bad_json(client, body):
    response = await client.post("/api/things", data=body, headers=AGENT)
    answer = await response.json()
    assert (response.status, answer["error_id"]) == (400, "bad-json"), answer
    assert "sys." not in answer["message"] and "Traceback" not in answer["message"]


async def test_an_integer_of_4300_digits_is_still_json(client):
    """The limit is Python's: what it converts reaches the handler."""
    response = await client.post("/api/things", data=b'{"name": ' + b"9" * 4300 + b"}", headers=AGENT)
    assert response.status == 201


@pytest.mark.parametrize("body", UNCONVERTIBLE.values(), ids=UNCONVERTIBLE.keys())
async def test_a_role_not_allowed_is_refused_whatever_the_body(client, body):
    response = await client.post("/api/admin/things", data=body, headers=AGENT)
    answer = await response.json()
    assert (response.status, answer["error_id"]) == (403, "forbidden"), answer


async def test_the_role_is_checked_before_the_body_is_read(client):
    """A body that never finishes arriving holds nobody's refusal: the role is known from the headers."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST /api/admin/things HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer agent-token\r\n"
        b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name": '
    )
    await writer.drain()
    try:
        status_line = await asyncio.wait_for(reader.readline(), 5)  # the body would wait 30 s
    finally:
        writer.close()
    assert status_line.startswith(b"HTTP/1.1 403"), status_line


async def test_a_refusal_for_the_role_shows_no_route_pattern(client):
    response = await client.get("/api/files/" + "a" * 64, headers=AGENT)
    answer = await response.json()
    assert response.status == 403
    assert "{" not in answer["message"] and "[0-9a-f]" not in answer["message"], answer
    assert "管理员" in answer["message"], "it says who may"


async def test_405_names_only_the_methods_the_description_has_for_that_path(client):
    """``/api/things/1/audit`` also fits ``/api/things/{number}/{command}`` for aiohttp, but ``audit`` is no
    command: the description has only GET there, and so does ``Allow``."""
    document = await (await client.get("/api/openapi.json")).json()
    assert set(document["paths"]["/api/things/{number}/audit"]) == {"get"}
    response = await client.request("OPTIONS", "/api/things/1/audit", headers=ADMIN)
    assert response.status == 405
    assert response.headers["Allow"] == "GET"
    response = await client.request("PUT", "/api/things/1/close", headers=ADMIN)
    assert (response.status, response.headers["Allow"]) == (405, "POST")
    # aiohttp routes this one to the command's handler by its pattern; the description has no POST there.
    response = await client.post("/api/things/1/audit", json={}, headers=ADMIN)
    assert (response.status, response.headers["Allow"]) == (405, "GET")
    assert (await response.json())["error_id"] == "method-not-allowed"


async def test_a_body_the_description_requires_is_required_in_the_description(client):
    document = await (await client.get("/api/openapi.json")).json()
    assert document["paths"]["/api/things"]["post"]["requestBody"]["required"] is True
    assert document["paths"]["/api/admin/things"]["post"]["requestBody"]["required"] is False


async def test_json_answers_are_never_cached_nor_sniffed(client):
    for response in (
        await client.post("/api/things", json={"name": "x"}, headers=AGENT),  # an answer
        await client.get("/api/things/1/audit", headers=AGENT),  # a refusal
        await client.get("/api/nothing-here", headers=AGENT),  # aiohttp's own refusal
        await client.get("/healthz"),
        await client.get("/api/openapi.json"),
    ):
        assert response.content_type == "application/json"
        assert response.headers["Cache-Control"] == "no-store", response.url
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.url


async def test_the_server_header_names_no_version(client):
    for response in (await client.get("/healthz"), await client.get("/api/nothing-here")):
        assert not any(c.isdigit() for c in response.headers.get("Server", "")), response.headers["Server"]
        assert "aiohttp" not in response.headers.get("Server", "").lower()


async def test_a_whole_number_written_with_a_point_is_an_integer(client):
    """JSON Schema's ``integer`` takes 5.0; so does a handler that asks for an ``int``."""
    response = await client.post("/api/things", data=b'{"name": 5.0, "more": [1e3, 2.5]}', headers=AGENT)
    body = (await response.json())["body"]
    assert body == {"name": 5, "more": [1000, 2.5]} and isinstance(body["name"], int)


def test_the_description_spells_out_pythons_whitespace_and_digits():
    """JSON Schema reads patterns as ECMA-262 does, whose ``\\s`` and ``\\d`` are not Python's: a pattern
    the handlers match in Python is described with both spelled out, so it means the same to a client."""
    spaces = re.compile(f"[{SPACES}]")
    assert [c for c in map(chr, range(0x110000)) if c.isspace()] == [
        c for c in map(chr, range(0x110000)) if spaces.fullmatch(c)
    ]
    described = portable(r"^[^@\s]+\S\d{2}$")
    assert "\\s" not in described and "\\S" not in described and "\\d" not in described
    for text in ("a\x1cb", "ab\x1c12", "ab٣٣", "ab 12", "abc12", "a@b12"):
        assert bool(re.fullmatch(described, text)) == bool(re.fullmatch(r"^[^@\s]+\S[0-9]{2}$", text)), text
    assert not re.fullmatch(described, "a\x00b12"), "nor NUL, which the server refuses in any text"


async def test_a_malformed_request_is_answered_without_a_version_too(client):
    """aiohttp's own 400, made before the app sees the request."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: test\r\nContent-Length: many\r\n\r\n")
    await writer.drain()
    try:
        head = (await asyncio.wait_for(reader.read(4096), 5)).split(b"\r\n\r\n")[0].decode()
    finally:
        writer.close()
    assert head.startswith("HTTP/1.0 400") or head.startswith("HTTP/1.1 400"), head
    server = next(line for line in head.split("\r\n") if line.lower().startswith("server:"))
    assert server == "Server: hotline", head
