"""The agents' API: agents change their own state, supervisors anyone's; clear refusals; Redis keeps it."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import fakeredis
import pytest

from hotline.acd.engine import QueuedCall
from hotline.acd.state_store import AcdStateStore
from hotline.kernel.api.web import HUB_KEY, MAX_SOCKETS_PER_USER
from hotline.kernel.runtime.live import EVENTS_STREAM, LiveState, agent_stream
from tests.fakes.events import catalogued
from tests.integration.helpers import auth


async def test_an_agent_logs_in_takes_a_break_and_turns_ready(api, redis) -> None:
    client, tokens, dispatcher, published = api
    me = auth(tokens, "1001")
    assert (await (await client.post("/api/agents/1001/login", headers=me)).json())["state"] == "break"
    response = await client.post("/api/agents/1001/break", json={"reason": "用餐"}, headers=me)
    assert (await response.json())["break_reason"] == "用餐"
    response = await client.post("/api/agents/1001/ready", headers=me)
    assert response.status == 200 and (await response.json())["state"] == "ready"
    assert [e["state"] for e in published if e["agent"] == "1001"][-3:] == ["break", "break", "ready"]
    restarted = await AcdStateStore(redis).load(dispatcher.engine.settings)
    assert restarted.agents["1001"].state == "ready", "the state is in Redis for the next controller"


async def test_refusals_name_what_is_wrong(api) -> None:
    client, tokens, _, _ = api
    me, boss = auth(tokens, "1001"), auth(tokens, "supervisor")
    listen = {"mode": "listen", "phone": "9001"}
    cases = [
        ("/api/agents/1002/ready", me, {}, 403, "forbidden"),
        ("/api/agents/1001/break", me, {}, 409, "agent-logged-out"),
        ("/api/agents/1001/wrap-up", me, {}, 409, "agent-not-idle"),
        ("/api/agents/1001/dance", me, {}, 404, "bad-command"),
        ("/api/agents/1009/login", auth(tokens, "supervisor"), {}, 404, "unknown-agent"),
        ("/api/agents/1001/ready", auth(tokens, "unit"), {}, 403, "forbidden"),
        ("/api/agents/1001/ready", {}, {}, 401, "unauthenticated"),
        ("/api/calls/1.1/monitor", me, listen, 403, "forbidden"),
        ("/api/calls/1.1/monitor", boss, listen, 404, "unknown-call"),
        ("/api/calls/1.1/monitor", boss, {**listen, "mode": "spy"}, 422, "invalid-field"),
        ("/api/calls/1.1/transfer", me, {"to": "12315"}, 404, "unknown-call"),
        ("/api/calls/1.1/transfer", auth(tokens, "unit"), {"to": "12315"}, 403, "forbidden"),
        ("/api/calls/1.1/transfer", me, {"to": "queue:9"}, 422, "invalid-field"),
        ("/api/calls/1.1/transfer", me, {"to": "12315", "mode": "warm"}, 422, "invalid-field"),
        ("/api/calls/1.1/conference", boss, {"to": "12315"}, 404, "unknown-call"),
        ("/api/calls/1.1/conference/leave", me, {}, 404, "unknown-call"),
        ("/api/calls/1.1/emergency", me, {"to": "12315"}, 422, "not-an-emergency-number"),
        ("/api/agents/1002/dial", me, {"number": "13800138000"}, 403, "forbidden"),
        ("/api/agents/1001/dial", me, {"number": "13800138000"}, 409, "agent-logged-out"),
        ("/api/agents/1001/dial", me, {}, 422, "invalid-field"),
    ]
    for path, headers, body, status, error_id in cases:
        response = await client.post(path, json=body, headers=headers)
        reply = await response.json()
        assert (response.status, reply.get("error_id")) == (status, error_id), (path, reply)
    for method in ("PATCH", "DELETE"):
        response = await client.request(method, "/api/monitors/abc", json={"mode": "barge"}, headers=boss)
        assert (response.status, (await response.json())["error_id"]) == (404, "unknown-monitor")
    await client.post("/api/agents/1001/login", headers=me)
    response = await client.post("/api/agents/1001/break", json={"reason": "睡觉"}, headers=me)
    assert (response.status, (await response.json())["error_id"]) == (409, "bad-break-reason")


async def test_an_agent_dials_a_citizen_about_a_ticket_only_to_numbers_the_plan_allows(api) -> None:
    client, tokens, _, published = api
    me = auth(tokens, "1001")
    await client.post("/api/agents/1001/ready", headers=me)

    async def dial(body: dict) -> tuple[int, dict]:
        response = await client.post("/api/agents/1001/dial", json=body, headers=me)
        return response.status, await response.json()

    status, refused = await dial({"number": "13800138000", "ticket": "NOPE-1"})
    assert (status, refused["error_id"]) == (404, "not-found")
    status, refused = await dial({"number": "0088216123456"})
    assert (status, refused["error_id"]) == (403, "outbound-not-allowed")
    assert published[-1]["type"] == "security.outbound_refused"
    status, dialled = await dial({"number": "13800138000"})
    assert status == 202 and dialled["state"] == "calling" and dialled["dial_id"].startswith("dial-")
    assert published[-1] | {"type": "agent.dial", "agent": "1001", "by": "1001"} == published[-1]


async def test_a_supervisor_sees_agents_and_the_queue_and_can_log_an_agent_out(api) -> None:
    client, tokens, dispatcher, _ = api
    boss = auth(tokens, "supervisor")
    assert (await client.post("/api/agents/1002/login", headers=boss)).status == 200
    await dispatcher.step(lambda engine, now: engine.call_arrived(QueuedCall("c1", "12345", "12345", now)))
    queue = await (await client.get("/api/acd/queue", headers=boss)).json()
    assert queue == [
        {
            "call_id": "c1",
            "line": "12345",
            "skill": "12345",
            "priority": "normal",
            "arrived_at": 100.0,
            "callback_number": "",
            "offered_to": "",
        }
    ]
    agents = {a["agent"]: a for a in await (await client.get("/api/agents", headers=boss)).json()}
    assert agents["1002"]["state"] == "break" and agents["1001"]["state"] == "logged_out"
    response = await client.post("/api/agents/1002/logout", headers=boss)
    assert (await response.json())["state"] == "logged_out"
    document = await (await client.get("/api/openapi.json")).json()
    assert "/api/agents/{account}/{command}" in document["paths"]


async def test_a_supervisors_message_reaches_the_screens_of_the_agents_signed_in(api) -> None:
    client, tokens, _, published = api
    boss = auth(tokens, "supervisor")
    await client.post("/api/agents/1001/login", headers=auth(tokens, "1001"))
    async with client.ws_connect(f"/api/agents/1001/events?access_token={tokens['1001']}") as mine:
        await asyncio.sleep(0.3)  # the socket reads from now on
        response = await client.post(
            "/api/messages", json={"to": "all", "text": " 排队已超十人，请尽快接听 "}, headers=boss
        )
        assert (response.status, await response.json()) == (200, {"to": ["1001"]}), "1002 is signed out"
        message = await mine.receive_json(timeout=5)
    assert (message["type"], message["from"], message["text"]) == (
        "agent.message",
        "李班长",
        "排队已超十人，请尽快接听",
    )
    assert published[-1] == {**published[-1], "type": "supervision.message", "by": "李班长", "to": ["1001"]}
    refusals = [
        (boss, {"to": ["1001", "1009"], "text": "好"}, 404, "unknown-agent"),
        (boss, {"to": [], "text": "好"}, 422, "invalid-field"),
        (boss, {"to": "all", "text": "长" * 201}, 422, "invalid-field"),
        (boss, {"to": "all"}, 422, "invalid-field"),
        (auth(tokens, "1001"), {"to": "all", "text": "好"}, 403, "forbidden"),
    ]
    for headers, body, status, error_id in refusals:
        response = await client.post("/api/messages", json=body, headers=headers)
        assert (response.status, (await response.json())["error_id"]) == (status, error_id), body


async def test_an_agents_socket_carries_their_screen_pops_and_nobody_elses(api, redis) -> None:
    client, tokens, _, _ = api
    live = LiveState(redis)
    async with client.ws_connect(f"/api/agents/1001/events?access_token={tokens['1001']}") as mine:
        await asyncio.sleep(0.3)  # the socket reads from now on
        await live.publish(catalogued("call.ringing", caller_number="13800138000"))
        await live.publish(catalogued("agent.state", agent="1002", state="ready"))
        await live.publish_to_agent("1002", catalogued("agent.screen_pop", agent="1002"))
        await live.publish(catalogued("agent.state", agent="1001", state="ringing"))
        await live.publish_to_agent("1001", catalogued("agent.screen_pop", agent="1001", caller_number="138"))
        received = [await mine.receive_json(timeout=5) for _ in range(2)]
    assert [(e["type"], e["agent"]) for e in received] == [
        ("agent.state", "1001"),
        ("agent.screen_pop", "1001"),
    ]
    shared = [json.loads(fields[b"event"])["type"] for _, fields in await redis.xrange(EVENTS_STREAM)]
    assert "agent.screen_pop" not in shared, "the caller's history is not on the shared stream"

    for path, headers, status in [
        (f"/api/agents/1002/events?access_token={tokens['1001']}", {}, 403),
        ("/api/agents/1001/events", {}, 401),
        ("/api/agents/1009/events", auth(tokens, "supervisor"), 404),
    ]:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(path, headers=headers)
        assert refused.value.status == status, path


async def test_the_floor_stream_is_for_supervisors_only(api, redis) -> None:
    """Callers' numbers and names are on it: no token, an agent's or a unit's token is refused."""
    client, tokens, _, _ = api
    for headers, status in [({}, 401), (auth(tokens, "1001"), 403), (auth(tokens, "unit"), 403)]:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/api/events?since=0", headers=headers)
        assert refused.value.status == status, headers
    plain = await client.get("/api/events", headers=auth(tokens, "supervisor"))
    assert plain.status == 426 and (await plain.json())["error_id"] == "websocket-required"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/api/events?since=yesterday", headers=auth(tokens, "supervisor"))
    assert refused.value.status == 400
    live = LiveState(redis)
    await live.publish(catalogued("call.ringing", caller_number="13800138000"))
    url = f"/api/events?since=0&access_token={tokens['supervisor']}"
    async with client.ws_connect(url) as floor:
        replayed = await floor.receive_json(timeout=5)
        await live.publish(catalogued("call.hangup", caller_number="13800138000"))
        live_event = await floor.receive_json(timeout=5)
    assert (replayed["type"], live_event["type"]) == ("call.ringing", "call.hangup")


async def test_many_sockets_share_one_redis_reader_and_each_user_has_a_cap(api, redis) -> None:
    client, tokens, _, _ = api
    clients_before = len(await redis.client_list())
    url = f"/api/events?access_token={tokens['supervisor']}"
    sockets = [await client.ws_connect(url) for _ in range(MAX_SOCKETS_PER_USER)]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(url)
    assert refused.value.status == 429
    await asyncio.sleep(0.5)
    # The hub reads with one blocking XREAD; the test's own client and its pool take the rest.
    assert len(await redis.client_list()) <= clients_before + 1
    await LiveState(redis).publish(catalogued("acd.queued", call_id="c1"))
    for ws in sockets:
        assert (await ws.receive_json(timeout=5))["call_id"] == "c1"
        await ws.close()


async def test_a_stopped_agents_open_socket_is_closed(api, redis) -> None:
    client, tokens, _, _ = api
    async with client.ws_connect(f"/api/agents/1001/events?access_token={tokens['1001']}") as mine:
        stop = await client.patch(
            "/api/agents/1001", json={"active": False}, headers=auth(tokens, "supervisor")
        )
        assert stop.status == 200, await stop.text()
        closing = await mine.receive(timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1008
        await LiveState(redis).publish_to_agent("1001", catalogued("agent.screen_pop", agent="1001"))
        assert mine.closed or (await mine.receive(timeout=2)).type != aiohttp.WSMsgType.TEXT


async def test_a_slow_reader_is_ended_and_told_to_resume(api, redis) -> None:
    """A client that stops reading never makes the hub wait: its socket is closed with a reason."""
    client, _, _, _ = api
    hub = client.app[HUB_KEY]
    subscription = await hub.subscribe(agent_stream("1002"), "1002")
    live = LiveState(redis)
    for n in range(subscription.queue.maxsize + 5):
        await live.publish_to_agent("1002", catalogued("agent.state", agent="1002", since=n))
    async with asyncio.timeout(5):
        while subscription.ended is None:
            await asyncio.sleep(0.05)
    assert subscription.ended.code == 1013 and "since" in subscription.ended.reason
    hub.unsubscribe(subscription)


async def test_shutdown_closes_every_socket_at_once(api) -> None:
    client, tokens, _, _ = api
    url = f"/api/events?access_token={tokens['supervisor']}"
    sockets = [await client.ws_connect(url) for _ in range(3)]
    started = time.monotonic()
    await client.app.shutdown()
    for ws in sockets:
        message = await ws.receive(timeout=2)
        assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 1001
    assert time.monotonic() - started < 2


async def test_with_redis_away_a_new_event_socket_is_refused_with_503_and_an_error_id(api) -> None:
    """It once failed inside the handler with a traceback; the client now learns to come back later."""
    client, tokens, _, _ = api
    client.server.app[HUB_KEY].redis = fakeredis.FakeAsyncRedis(connected=False)
    handshake = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    response = await client.get("/api/events", headers={**handshake, **auth(tokens, "supervisor")})
    assert response.status == 503 and (await response.json())["error_id"] == "events-unavailable"


async def test_the_wallboard_page_and_its_script_are_served_and_hold_no_data(api) -> None:
    client, _, _, _ = api
    page = await client.get("/wallboard")
    assert page.status == 200 and "班长大屏" in await page.text()
    assert "default-src 'self'" in page.headers["Content-Security-Policy"], "no script from elsewhere runs"
    script = await client.get("/static/supervision/wallboard.js")
    assert script.status == 200 and "/api/events" in await script.text()
    assert (await client.get("/static/supervision/../http.py")).status in (403, 404), "only the page's files"


async def test_reports_for_supervisors_as_json_and_csv_and_clear_refusals(api) -> None:
    client, tokens, _, _ = api
    boss = auth(tokens, "supervisor")
    response = await client.get("/api/reports/calls?from=2026-11-01&to=2026-11-30&by=week", headers=boss)
    body = await response.json()
    assert response.status == 200 and (body["by"], body["rows"]) == ("week", [])
    response = await client.get("/api/reports/calls?by=agent&format=csv", headers=boss)
    assert response.status == 200 and response.content_type == "text/csv"
    assert (await response.text()).startswith("\ufeff分组,呼入量")
    live = await (await client.get("/api/reports/live", headers=boss)).json()
    assert live["last_24h"]["target"] == 0.95 and live["today"]["offered"] == 0
    for query, field in (
        ("by=year", "by"),
        ("from=2026-13-01", "from"),
        ("from=2026-11-30&to=2026-11-01", "to"),
        ("to=9999-12-31", "to"),
        ("format=xlsx", "format"),
    ):
        response = await client.get(f"/api/reports/calls?{query}", headers=boss)
        refusal = await response.json()
        assert response.status == 422 and refusal["field"] == field, (query, refusal)
    response = await client.get("/api/reports/calls", headers=auth(tokens, "1001"))
    assert response.status == 403 and (await response.json())["error_id"] == "forbidden"
