"""The lab's Asterisk refuses what the trust boundaries refuse: toll fraud through a forged Originate,
and FastAGI requests that do not carry the deployment's key."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time

import aiohttp
from panoramisk.message import Message

from hotline.kernel.api.users import Users
from hotline.kernel.api.web import MAX_SOCKETS_PER_USER
from hotline.kernel.runtime.db import create_engine
from hotline.lab.caller import CallPlan, place_call
from tests.lab.conftest import floor_url
from tests.lab.helpers import AmiEvents

SOCKETS = 500
numbers = (f"1360000{n:04d}" for n in itertools.count(1))


async def test_a_forged_originate_cannot_dial_a_foreign_number(lab, controller, settings, agents):
    """Even with the controller bypassed, the dialplan's own check stops the call before the carrier."""
    number = "0088216123456"
    async with agents.ami() as pstn, agents.ami(system=True) as system, agents.floor() as floor:
        carrier, dialplan = AmiEvents(pstn), AmiEvents(system)
        await system.originate(
            {
                "Channel": "PJSIP/1001",
                "Context": "hotline-callback",
                "Exten": number,
                "Priority": "1",
                "Variable": ["HOTLINE_CALLBACK_OF=forged"],
                "Timeout": "10000",
            },
            timeout=20,
        )
        refused = await floor.wait_for(
            lambda e: e.get("type") == "security.outbound_refused" and e.get("number") == number, timeout=15
        )
        # The dialplan hangs the forged call up after refusing it: a Dial would have come before that.
        await dialplan.wait_for(
            lambda e: e.get("Event") == "Hangup" and str(e.get("Channel")).startswith("PJSIP/1001-"), 15
        )
        await carrier.caught_up()
    assert refused["where"] == "dialplan"
    reached_carrier = [e for e in carrier.events if e.get("Exten") == number]
    assert reached_carrier == [], "the foreign number reached the carrier"


async def forged_feature_code(settings, key: bytes) -> bytes:
    """A FastAGI request as Asterisk makes it, from someone who does not know the key: what it is told."""
    reader, writer = await asyncio.open_connection(settings.bind_host, settings.fastagi_port)
    writer.write(b"agi_network_script: agent?code=*71\nagi_uniqueid: 1.1\nagi_callerid: 1001\n\n")
    await writer.drain()
    asked = await asyncio.wait_for(reader.readline(), 5)
    writer.write(b"200 result=1 (" + key + b")\n")
    try:
        told = asked + await asyncio.wait_for(reader.read(), 5)
    except ConnectionResetError:
        told = asked
    writer.close()
    return told


async def test_fastagi_without_the_key_is_dropped_and_reported_once_per_peer_counting_each(
    lab, controller, settings, agents
):
    """Whoever reaches the FastAGI port cannot sign agents in or queue callers; 2,000 such requests in
    0.87 s once put 2,000 events on the stream (and 2,000 warnings in the log)."""
    await agents.command("1001", "logout")
    flood = 50
    async with agents.floor() as floor:
        told = [
            await forged_feature_code(settings, b"guessed-" + bytes(str(n), "ascii")) for n in range(flood)
        ]
        folded = await floor.wait_for(
            lambda e: e.get("type") == "security.agi_refused" and e.get("count", 0) > 1, timeout=20
        )
        refused = [e for e in floor.events if e.get("type") == "security.agi_refused"]
    assert set(told) == {b"GET VARIABLE HOTLINE_AGI_KEY\n"}, "asked for the key, and told nothing else"
    assert [(e["peer"], e["reason"], e["count"]) for e in refused] == [
        (settings.bind_host, "missing or wrong key", 1),
        (settings.bind_host, "missing or wrong key", flood - 1),
    ]
    assert folded["total"] == flood
    assert (await agents.states())["1001"]["state"] == "logged_out", "the forged *71 signed nobody in"
    warnings = [line for line in controller.log_path.read_text().splitlines() if "fastagi: refused" in line]
    assert len(warnings) == 2


async def test_a_call_reaches_an_agent_while_500_websockets_are_open(lab, controller, settings, agents):
    """Web clients once exhausted the Redis pool the call path shares: /healthz went red and the IVR
    failed. Now every socket shares one reader, on a budget of its own."""
    engine = create_engine(settings.effective_database_url)
    users = Users(engine)
    tokens = [
        await users.add(f"wallboard-{n}-{secrets.token_hex(3)}", "supervisor")
        for n in range(-(-SOCKETS // MAX_SOCKETS_PER_USER))
    ]
    await engine.dispose()
    await agents.only_ready("1001")
    plan = CallPlan(caller_number=next(numbers), dtmf="1", dtmf_after=1.0, hold=60)
    # aiohttp's client holds 100 connections at most by default; this one holds them all.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        sockets = [
            await http.ws_connect(floor_url(controller.base_url, tokens[n // MAX_SOCKETS_PER_USER]))
            for n in range(SOCKETS)
        ]
        try:
            async with agents.floor() as floor:
                await place_call(lab, plan)
                bridged = await floor.wait_for(
                    lambda e: (
                        e.get("type") == "call.bridged" and e.get("caller_number") == plan.caller_number
                    ),
                    timeout=60,
                )
            async with http.get(controller.base_url + "/healthz") as health:
                assert health.status == 200, await health.text()
            seen = 0
            for ws in sockets[:: SOCKETS // 10]:  # a sample of the sockets got the same event
                async with asyncio.timeout(10):
                    while (await ws.receive_json()).get("type") != "call.bridged":
                        pass
                seen += 1
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))
    assert bridged["agent"] == "1001" and seen == len(sockets[:: SOCKETS // 10])


async def last_message(ws: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMessage:
    """Read a socket to its end, as a browser does; the last message is the close."""
    message = await ws.receive(timeout=15)
    while message.type == aiohttp.WSMsgType.TEXT:
        message = await ws.receive(timeout=15)
    return message


async def test_stopping_the_controller_closes_open_sockets_at_once_and_hands_calls_over_quietly(
    lab, controller, settings, agents
):
    """Ctrl-C once took 10 to 31 s with websockets open (each handler waited for its next event), and
    logged a traceback for every open FastAGI call instead of handing it to the dialplan's fallback."""
    await agents.only_ready()
    await agents.command("1001", "login")  # on duty but not ready: the caller waits in the queue
    plan = CallPlan(caller_number=next(numbers), dtmf="1", dtmf_after=1.0, hold=40)
    async with agents.floor() as floor:
        await place_call(lab, plan)
        await floor.wait_for(
            lambda e: e.get("type") == "acd.queued" and e.get("caller_number") == plan.caller_number
        )
    joined: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

    def fallback_queue(event: Message) -> None:
        ours = event.get("Event") == "QueueCallerJoin" and event.get("CallerIDNum") == plan.caller_number
        if ours and not joined.done():
            joined.set_result(event)

    async with agents.ami(system=True) as system, aiohttp.ClientSession() as http:
        system.on_event(fallback_queue)
        sockets = [await http.ws_connect(floor_url(controller.base_url, agents.token)) for _ in range(5)]
        # Read every socket meanwhile, as a browser does: it answers a close at once.
        closes = [asyncio.create_task(last_message(ws)) for ws in sockets]
        started = time.monotonic()
        await asyncio.to_thread(controller.stop)
        took = time.monotonic() - started
        closes = [(m.type, m.data) for m in await asyncio.gather(*closes)]
        async with asyncio.timeout(30):  # after the fallback's own prompt
            queued = await joined
    print(f"controller stopped {took:.2f}s after SIGTERM with {len(sockets)} sockets open")
    assert closes == [(aiohttp.WSMsgType.CLOSE, 1001)] * len(sockets), "closed as 'going away', not dropped"
    log = controller.log_path.read_text()
    assert "Traceback" not in log
    assert "handed 1 open calls to the dialplan's fallback" in log
    assert queued["Queue"] == "hotline-all", "the caller waits in the dialplan's fallback queue"
