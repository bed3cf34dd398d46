"""The agents' API: agents change their own state, supervisors anyone's; clear refusals; Redis keeps it."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from acd.dispatch import Dispatcher
from acd.engine import Call, Engine
from acd.state_store import AcdStateStore
from agents.directory import AgentDirectory, AgentRecord
from agents.http import AGENT_ROUTES, add_agent_state
from agents.profiles import AgentProfile
from agents.roster import Roster
from hotline.live import LiveState
from hotline.users import Users
from hotline.web import LIVE_KEY
from ticketing.http import add_ticket_routes
from ticketing.policy import load_policy
from ticketing.service import TicketDesk


async def provision_nothing(records) -> bool:
    """These tests are about states; the agent table's endpoints are tested in test_agent_roster."""
    return True


@pytest.fixture
async def api(engine, redis):
    desk = TicketDesk(engine, load_policy("zhijiang"))
    await desk.start()
    users = Users(engine)
    published: list[dict] = []

    async def publish(event: dict) -> None:
        published.append(event)

    async def no_callbacks(offer) -> None:
        raise AssertionError("no callback expected")

    dispatcher = Dispatcher(Engine(), AcdStateStore(redis), publish, lambda: 100.0, no_callbacks)
    roster = Roster(AgentDirectory(engine), provision_nothing, dispatcher, {"12345"})
    await roster.start([AgentRecord(AgentProfile(a, "", {"12345": 5}), "pw") for a in ("1001", "1002")])
    await dispatcher.restore(roster.active_skills())
    app = web.Application()
    app[LIVE_KEY] = LiveState(redis)
    add_agent_state(app, dispatcher, roster)
    add_ticket_routes(app, desk, users, extra_routes=AGENT_ROUTES)
    tokens = {
        "1001": await users.add("1001", "agent"),
        "supervisor": await users.add("李班长", "supervisor"),
        "unit": await users.add("城管中队", "unit", "cgj.majiadian"),
    }
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client, tokens, dispatcher, published
    await client.close()


def auth(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


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
    me = auth(tokens, "1001")
    cases = [
        ("/api/agents/1002/ready", me, {}, 403, "forbidden"),
        ("/api/agents/1001/break", me, {}, 409, "agent-logged-out"),
        ("/api/agents/1001/wrap-up", me, {}, 409, "agent-not-idle"),
        ("/api/agents/1001/dance", me, {}, 404, "bad-command"),
        ("/api/agents/1009/login", auth(tokens, "supervisor"), {}, 404, "unknown-agent"),
        ("/api/agents/1001/ready", auth(tokens, "unit"), {}, 403, "forbidden"),
        ("/api/agents/1001/ready", {}, {}, 401, "unauthenticated"),
    ]
    for path, headers, body, status, error_id in cases:
        response = await client.post(path, json=body, headers=headers)
        reply = await response.json()
        assert (response.status, reply.get("error_id")) == (status, error_id), (path, reply)
    await client.post("/api/agents/1001/login", headers=me)
    response = await client.post("/api/agents/1001/break", json={"reason": "睡觉"}, headers=me)
    assert (response.status, (await response.json())["error_id"]) == (409, "bad-break-reason")


async def test_a_supervisor_sees_agents_and_the_queue_and_can_log_an_agent_out(api) -> None:
    client, tokens, dispatcher, _ = api
    boss = auth(tokens, "supervisor")
    assert (await client.post("/api/agents/1002/login", headers=boss)).status == 200
    await dispatcher.step(lambda engine, now: engine.call_arrived(Call("c1", "12345", "12345", now)))
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


async def test_an_agents_socket_carries_their_screen_pops_and_nobody_elses(api, redis) -> None:
    client, tokens, _, _ = api
    live = LiveState(redis)
    async with client.ws_connect(f"/api/agents/1001/events?access_token={tokens['1001']}") as mine:
        await asyncio.sleep(0.3)  # the socket reads from now on
        await live.publish({"type": "call.ringing", "caller_number": "13800138000"})
        await live.publish({"type": "agent.state", "agent": "1002", "state": "ready"})
        await live.publish_to_agent("1002", {"type": "agent.screen_pop", "agent": "1002"})
        await live.publish({"type": "agent.state", "agent": "1001", "state": "ringing"})
        await live.publish_to_agent(
            "1001", {"type": "agent.screen_pop", "agent": "1001", "caller_number": "138"}
        )
        received = [await mine.receive_json(timeout=5) for _ in range(2)]
    assert [(e["type"], e["agent"]) for e in received] == [
        ("agent.state", "1001"),
        ("agent.screen_pop", "1001"),
    ]
    shared = [e["type"] for _, e in await live.read_events("0-0", block_ms=0)]
    assert "agent.screen_pop" not in shared, "the caller's history is not on the shared stream"

    for path, headers, status in [
        (f"/api/agents/1002/events?access_token={tokens['1001']}", {}, 403),
        ("/api/agents/1001/events", {}, 401),
        ("/api/agents/1009/events", auth(tokens, "supervisor"), 404),
    ]:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(path, headers=headers)
        assert refused.value.status == status, path
