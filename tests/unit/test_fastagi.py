"""The FastAGI server against a scripted Asterisk: scans, async HANGUP, timeouts, routing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.kernel.asterisk.fastagi import (
    KEY_VARIABLE,
    AgiHangup,
    AgiSession,
    AgiTimeout,
    FastAgiServer,
    parse_result,
)
from hotline.kernel.asterisk.refusals import Refusal
from tests.fakes.agi_asterisk import KEY, environment, play_asterisk

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def server():
    refusals: list[tuple[str, str]] = []
    agi = FastAgiServer(
        "127.0.0.1",
        0,
        key=KEY,
        permit={"127.0.0.1"},
        on_refused=lambda refusal: refusals.append((refusal.peer, refusal.reason)),
        header_timeout=0.5,
        command_timeout=0.5,
    )
    agi.refused = refusals  # type: ignore[attr-defined]
    await agi.start()
    yield agi
    await agi.close()


async def asterisk(
    server: FastAgiServer, script: str, replies: dict[str, bytes], *args: str, key: str | None = KEY
) -> list[str]:
    return await play_asterisk(server.port, script, replies, *args, key=key)


async def test_routes_by_script_with_query_and_arguments(server):
    got = {}

    async def handler(session: AgiSession) -> None:
        got.update(script=session.script, params=session.params, args=session.args, name=session.caller_name)
        await session.answer()

    server.route("ivr", handler)
    seen = await asterisk(server, "ivr?line=12315", {"ANSWER": b"200 result=0\n"}, "first", "二")
    assert seen == ["ANSWER"]
    assert got == {"script": "ivr", "params": {"line": "12315"}, "args": ["first", "二"], "name": "张三"}


async def test_bare_connect_and_close_does_not_stall_the_event_loop(server):
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def handler(session: AgiSession) -> None:
        await session.answer()

    server.route("ivr", handler)
    task = asyncio.create_task(ticker())
    for _ in range(20):  # a port scan: connect, close
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.close()
    _, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET / HTTP/1.0\r\n\r\n")  # a stray HTTP client
    before = ticks
    await asyncio.sleep(0.2)
    assert ticks - before >= 5
    assert await asterisk(server, "ivr", {"ANSWER": b"200 result=0\n"}) == ["ANSWER"]
    task.cancel()
    writer.close()


async def test_silent_connection_is_dropped_after_the_header_timeout(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"agi_network_script: ivr\n")  # never finishes the environment
    async with asyncio.timeout(2):
        assert await reader.read() == b""
    writer.close()


async def test_async_hangup_line_does_not_shift_the_next_reply(server):
    results = []

    async def handler(session: AgiSession) -> None:
        results.append(await session.command('STREAM FILE x ""'))
        results.append(await session.command("GET VARIABLE DIALSTATUS"))
        results.append(session.hung_up)

    server.route("ivr", handler)
    await asterisk(
        server,
        "ivr",
        {
            "STREAM": b"HANGUP\n200 result=0 endpos=8000\n",
            "GET VARIABLE": b"200 result=1 (ANSWER)\n",
        },
    )
    assert results[0].extras == {"endpos": "8000"}
    assert results[1].data == "ANSWER"
    assert results[2] is True


async def test_a_stuck_command_times_out(server):
    outcome = []

    async def handler(session: AgiSession) -> None:
        try:
            await session.command("WAIT FOR DIGIT 1")
        except AgiTimeout:
            outcome.append("timeout")

    server.route("ivr", handler)
    await asterisk(server, "ivr", {})
    assert outcome == ["timeout"]


async def test_dead_channel_raises_hangup(server):
    outcome = []

    async def handler(session: AgiSession) -> None:
        try:
            await session.answer()
        except AgiHangup:
            outcome.append("hangup")

    server.route("ivr", handler)
    await asterisk(server, "ivr", {"ANSWER": b"511 Command Not Permitted on a dead channel\n"})
    assert outcome == ["hangup"]


async def test_unknown_script_closes_without_commands(server):
    assert await asterisk(server, "nope", {}) == []


def test_plain_function_handlers_are_refused_when_routed(server):
    def handler(session):
        return None

    with pytest.raises(TypeError, match="async"):
        server.route("ivr", handler)


@pytest.mark.parametrize(
    ("line", "code", "result", "data", "digit"),
    [
        ("200 result=49", 200, "49", "", "1"),
        ("200 result= (timeout)", 200, "", "timeout", ""),
        ("200 result=0 (dtmf) endpos=1234", 200, "0", "dtmf", ""),
        ("510 Invalid or unknown command", 510, "", "Invalid or unknown command", ""),
    ],
)
def test_parse_result(line, code, result, data, digit):
    parsed = parse_result(line)
    assert (parsed.code, parsed.result, parsed.data, parsed.digit) == (code, result, data, digit)


@pytest.mark.parametrize("key", [None, "", "guessed", KEY + "x"])
async def test_a_request_without_the_deployments_key_is_dropped_as_a_security_event(server, key):
    """Whoever reaches the port cannot sign agents in, queue callers or ask for callbacks."""
    called = []

    async def handler(session: AgiSession) -> None:
        called.append(session.params)
        await session.answer()

    server.route("agent", handler)
    seen = await asterisk(server, "agent?code=*71", {"ANSWER": b"200 result=0\n"}, key=key)
    assert seen == [] and called == []
    assert server.refused == [("127.0.0.1", "missing or wrong key")]


async def test_the_key_is_asked_of_the_channel_never_read_from_the_url_that_asterisk_logs(server):
    """Asterisk writes every ``AGI()`` line with its URL into messages.log: the key is not in it."""
    got = {}

    async def handler(session: AgiSession) -> None:
        got.update(params=session.params, env=dict(session.env))
        await session.answer()

    server.route("agent", handler)
    assert await asterisk(server, "agent?code=*71", {"ANSWER": b"200 result=0\n"}) == ["ANSWER"]
    assert got["params"] == {"code": "*71"} and KEY not in str(got["env"])
    # The old URL's key buys nothing from a channel that does not know it.
    assert await asterisk(server, f"agent?code=*71&key={KEY}", {"ANSWER": b"200 result=0\n"}, key=None) == []


async def test_a_flood_of_unkeyed_connections_is_told_in_a_few_reports_that_count_every_one(caplog):
    """2,000 unkeyed connections in 0.87 s made 2,000 events and 2,000 log lines."""
    reports: list[Refusal] = []
    agi = FastAgiServer("127.0.0.1", 0, key=KEY, permit={"127.0.0.1"}, on_refused=reports.append)
    await agi.start()
    try:
        flood = 300
        for _ in range(flood):
            reader, writer = await asyncio.open_connection("127.0.0.1", agi.port)
            writer.write(environment("agent?code=*71"))
            await reader.readline()  # the key question, left unanswered
            writer.close()
        async with asyncio.timeout(5):
            while agi.refusals.tally.total < flood:
                await asyncio.sleep(0.01)
    finally:
        await agi.close()
    refused_lines = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(reports) == 2 and len(refused_lines) == 2, "the first at once, the rest folded at the stop"
    assert sum(r.count for r in reports) == flood and reports[-1].total == flood
    assert {(r.peer, r.reason) for r in reports} == {("127.0.0.1", "missing or wrong key")}


async def test_an_address_that_is_not_asterisk_is_refused_before_anything_is_read():
    refusals = []
    agi = FastAgiServer(
        "127.0.0.1", 0, key=KEY, permit={"10.9.9.9"}, on_refused=lambda r: refusals.append((r.peer, r.reason))
    )
    await agi.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", agi.port)
        writer.write(environment("ivr"))
        try:
            answered = await asyncio.wait_for(reader.read(), 2)
        except ConnectionResetError:  # closed with our environment unread
            answered = b""
        assert answered == b""
        writer.close()
    finally:
        await agi.close()
    assert refusals == [("127.0.0.1", "address not permitted")]


@pytest.mark.parametrize("key", ["", "with space", "paren)"])
def test_a_server_without_a_key_that_comes_back_whole_cannot_be_made(key):
    with pytest.raises(ValueError, match="key"):
        FastAgiServer("127.0.0.1", 0, key=key, permit={"127.0.0.1"})


def test_the_key_variable_is_the_dialplans_global():
    assert f"{KEY_VARIABLE} = {{{{ agi_key }}}}" in (REPO / "asterisk-conf" / "extensions.conf").read_text()
