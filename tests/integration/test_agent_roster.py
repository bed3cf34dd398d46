"""The agent table through the API: a supervisor adds a seat, its endpoint is written and Asterisk reloaded.

Asterisk is the fake AMI here (the lab test registers a real softphone); the
database and Redis are real.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from hotline.acd.dispatch import Dispatcher
from hotline.acd.engine import Engine, QueuedCall
from hotline.acd.state_store import AcdStateStore
from hotline.agents.directory import AgentDirectory, AgentRecord
from hotline.agents.http import AGENT_ROUTES, add_agent_state
from hotline.agents.profiles import AgentProfile
from hotline.agents.provisioning import Provisioner
from hotline.agents.roster import Roster
from hotline.asterisk_system import render_system
from hotline.kernel.api.hub import EventHub
from hotline.kernel.api.identity import Actor, Role
from hotline.kernel.api.users import Users
from hotline.kernel.api.web import create_app
from hotline.kernel.asterisk.ami import AmiClient
from hotline.kernel.asterisk.conf import sip_digest
from hotline.kernel.runtime.config import Settings
from hotline.ticketing.policy import load_policy
from hotline.ticketing.service import TicketDesk
from hotline.trunks.dialling import DiallingPlan, OutboundGuard
from hotline.workspace.dial_out import DialOut
from hotline.workspace.http import WORKSPACE_ROUTES, add_workspace
from tests.fakes.ami_server import FakeAmi
from tests.integration.api_routes import add_api
from tests.integration.served_api import no_health_checks

SEED = AgentRecord(AgentProfile("1001", "", {"12345": 5}), sip_digest("1001", "seed-password"))


class Centre:
    """What a controller builds for the agent table, on a real database and Redis and a fake AMI."""

    def __init__(self, engine, redis, ami: AmiClient, tmp_path: Path) -> None:
        settings = Settings(
            asterisk_root=tmp_path,
            asterisk_instance_dir="/sut",
            agents=("1001",),
            supervisors=("9001",),
            account_passwords={"1001": "seed-password", "9001": "supervisor-password"},
        )
        self.etc = tmp_path / "sut" / "etc"
        self.engine = engine

        async def no_callbacks(offer) -> None:
            raise AssertionError("no callback expected")

        self.dispatcher = Dispatcher(Engine(), AcdStateStore(redis), _ignore, lambda: 100.0, no_callbacks)
        self.provisioner = Provisioner(functools.partial(render_system, settings), self.etc, ami)
        self.roster = Roster(
            AgentDirectory(engine), self.provisioner.provision, self.dispatcher, {"12345", "12315", "9001"}
        )

    async def start(self) -> None:
        await self.roster.start([SEED])
        await self.dispatcher.restore(self.roster.active_skills())

    def conf(self, name: str) -> str:
        return (self.etc / name).read_text()


async def _ignore(event: dict) -> None:
    return None


@pytest.fixture
async def fake_ami():
    server = FakeAmi()
    server.port = await server.start()
    client = AmiClient("127.0.0.1", server.port, "hotline", server.secret, action_timeout=2.0)
    await client.connect()
    yield server, client
    await client.close()
    await server.close()


@pytest.fixture
async def api(engine, redis, fake_ami, tmp_path):
    server, ami = fake_ami
    centre = Centre(engine, redis, ami, tmp_path)
    await centre.start()
    desk = TicketDesk(engine, load_policy("zhijiang"))
    await desk.start()
    users = Users(engine)
    app = create_app(no_health_checks, EventHub(redis))
    outbound = OutboundGuard(DiallingPlan(), _ignore)
    add_agent_state(app, centre.dispatcher, centre.roster)
    dial_out = DialOut(ami, centre.dispatcher, outbound, desk, _ignore, 15)
    add_workspace(app, centre.dispatcher, dial_out, centre.roster.is_agent)
    add_api(app, desk, users, extra_routes=[*WORKSPACE_ROUTES, *AGENT_ROUTES])
    tokens = {
        "supervisor": await users.add("李班长", "supervisor"),
        "1001": await users.add("1001", "agent"),
    }
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client, tokens, centre, server
    await client.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_supervisor_adds_a_seat_that_asterisk_and_the_acd_know_at_once(api) -> None:
    client, tokens, centre, server = api
    reloads_before = len(server.actions("Reload"))
    body = {"account": "1010", "name": "王芳", "skills": {"12345": 5, "dialect": 7}}
    response = await client.post("/api/agents", json=body, headers=bearer(tokens["supervisor"]))
    seat = await response.json()
    assert response.status == 201, seat
    assert seat["provisioned"] and seat["skills"] == {"12345": 5, "dialect": 7}
    pjsip = centre.conf("pjsip.conf")
    assert "[1010](account-template)" in pjsip
    assert f"password_digest = MD5:{sip_digest('1010', seat['sip_password'])}" in pjsip
    assert seat["sip_password"] not in pjsip, "Asterisk keeps a digest, never the password"
    async with centre.engine.connect() as connection:
        stored = (await connection.execute(text("SELECT * FROM agents WHERE account = '1010'"))).one()
    assert seat["sip_password"] not in str(stored), "nor does the agent table"
    assert oct(centre.etc.joinpath("pjsip.conf").stat().st_mode)[-3:] == "640"
    assert "callerid = 王芳 <1010>" in pjsip
    assert "member => PJSIP/1010,0,王芳" in centre.conf("queues.conf"), "the fallback queue rings it too"
    assert [a["Module"] for a in server.actions("Reload")[reloads_before:]] == [
        "res_pjsip.so",
        "app_queue.so",
    ]

    mine = bearer(seat["api_token"])
    response = await client.post("/api/agents/1010/ready", headers=mine)
    assert (await response.json())["state"] == "ready", "the new agent signs in with the token they got"
    listed = await (await client.get("/api/agents/1010", headers=mine)).json()
    assert listed["name"] == "王芳" and listed["skills"] == {"12345": 5, "dialect": 7}
    await centre.dispatcher.step(
        lambda engine, now: engine.call_arrived(QueuedCall("c1", "方言", "dialect", now))
    )
    assert centre.dispatcher.take_offer("c1").account == "1010", "the dialect call goes to the new seat"


async def test_bad_seats_are_refused_with_the_field_named(api) -> None:
    client, tokens, _, _ = api
    boss = bearer(tokens["supervisor"])
    cases = [
        ({"account": "0123", "name": "甲"}, boss, 422, "account"),
        ({"account": "12345", "name": "甲"}, boss, 422, "account"),
        ({"account": "1011", "name": "甲\n[evil]"}, boss, 422, "name"),
        ({"account": "1011", "name": "王芳,PJSIP/9001,yes,99"}, boss, 422, "name"),
        ({"account": "1011", "name": "${SHELL(id)}"}, boss, 422, "name"),
        ({"account": "1011", "name": ""}, boss, 422, "name"),
        ({"account": "1011", "name": "甲", "skills": {"12345": 10}}, boss, 422, "skills"),
        ({"account": "1011", "name": "甲", "skills": {"a b": 3}}, boss, 422, "skills"),
        ({"account": "1011", "name": "甲", "password": "x"}, boss, 422, "password"),
        ({"account": "1001", "name": "甲"}, boss, 409, "account"),
        ({"account": "1011", "name": "甲"}, bearer(tokens["1001"]), 403, None),
    ]
    for body, headers, status, field in cases:
        response = await client.post("/api/agents", json=body, headers=headers)
        reply = await response.json()
        assert (response.status, reply.get("field")) == (status, field), (body, reply)
    response = await client.patch("/api/agents/1999", json={"name": "乙"}, headers=boss)
    assert response.status == 404
    response = await client.patch("/api/agents/1001", json={"account": "1002"}, headers=boss)
    assert response.status == 422 and (await response.json())["field"] == "account"


async def test_a_stopped_agent_loses_phone_and_token_but_never_in_the_middle_of_a_call(api) -> None:
    client, tokens, centre, _ = api
    boss, agent = bearer(tokens["supervisor"]), bearer(tokens["1001"])
    await client.post("/api/agents/1001/ready", headers=agent)
    await centre.dispatcher.step(
        lambda engine, now: engine.call_arrived(QueuedCall("c1", "12345", "12345", now))
    )
    response = await client.patch("/api/agents/1001", json={"active": False}, headers=boss)
    assert (response.status, (await response.json())["error_id"]) == (409, "agent-on-call")
    assert "[1001](account-template)" in centre.conf("pjsip.conf"), "the ringing phone keeps its endpoint"

    await centre.dispatcher.finish_offer(centre.dispatcher.take_offer("c1"), answered=False)
    await centre.dispatcher.caller_gone("c1")
    response = await client.patch("/api/agents/1001", json={"active": False}, headers=boss)
    assert response.status == 200 and (await response.json())["active"] is False
    assert "[1001]" not in centre.conf("pjsip.conf") and "PJSIP/1001" not in centre.conf("queues.conf")
    assert (await client.get("/api/agents/1001", headers=boss)).status == 404
    assert (await client.get("/api/agents", headers=agent)).status == 401, "their token is closed"

    response = await client.patch(
        "/api/agents/1001", json={"active": True, "name": "张伟", "skills": {"12315": 8}}, headers=boss
    )
    assert response.status == 200 and "sip_password" not in await response.json()
    assert "callerid = 张伟 <1001>" in centre.conf("pjsip.conf")
    back = await (await client.get("/api/agents/1001", headers=agent)).json()
    assert back["state"] == "logged_out" and back["skills"] == {"12315": 8}


async def test_a_seat_added_while_asterisk_is_away_is_loaded_when_it_is_back(api, fake_ami) -> None:
    client, tokens, centre, server = api
    _, ami = fake_ami
    await ami.close()
    body = {"account": "1020", "name": "夜班"}
    response = await client.post("/api/agents", json=body, headers=bearer(tokens["supervisor"]))
    seat = await response.json()
    assert response.status == 201 and seat["provisioned"] is False
    assert "[1020](account-template)" in centre.conf("pjsip.conf"), "written now, for an Asterisk restart"
    reloads = len(server.actions("Reload"))
    await ami.connect()
    await centre.provisioner.catch_up()
    assert len(server.actions("Reload")) == reloads + 2
    await centre.provisioner.catch_up()
    assert len(server.actions("Reload")) == reloads + 2, "nothing changed since: no second reload"


async def test_a_restarted_controller_keeps_the_table_and_forgets_stopped_agents(
    api, engine, redis, fake_ami, tmp_path
):
    client, tokens, _, _ = api
    boss = bearer(tokens["supervisor"])
    await client.post("/api/agents", json={"account": "1010", "name": "王芳"}, headers=boss)
    await client.patch("/api/agents/1001", json={"active": False}, headers=boss)
    restarted = Centre(engine, redis, fake_ami[1], tmp_path)
    await restarted.start()
    assert sorted(restarted.dispatcher.engine.agents) == ["1010"]
    assert restarted.roster.profiles["1001"].active is False, "the seed does not bring a stopped agent back"


async def test_a_seat_never_takes_over_the_name_of_an_existing_user(api, engine) -> None:
    """A seat named after an administrator once rotated the administrator's token into a new agent row:
    their token stopped working and the supervisor held one for their name."""
    client, tokens, centre, _ = api
    users = Users(engine)
    existing = {
        "2001": (await users.add("2001", "admin"), Role.ADMIN),
        "1030": (await users.add("1030", "agent"), Role.AGENT),  # an agent user with no seat is no seat
    }
    boss = bearer(tokens["supervisor"])
    for account, (token, role) in existing.items():
        response = await client.post("/api/agents", json={"account": account, "name": "冒名"}, headers=boss)
        refused = await response.json()
        assert (response.status, refused["error_id"], refused["field"]) == (409, "user-exists", "account")
        assert "api_token" not in refused and "sip_password" not in refused
        assert await users.authenticate(token) == Actor(account, role), "their token and role stay theirs"
        assert await centre.roster.directory.get(account) is None and account not in centre.roster.profiles
        assert f"[{account}]" not in centre.conf("pjsip.conf"), "no phone answers to their name"
        assert centre.dispatcher.agent(account) is None
