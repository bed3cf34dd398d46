"""The controller wired to fakes: a fake AMI, an in-process Redis, SQLite, and Asterisk's side of FastAGI
played by the test. What it checks is what the floor sees: an agent's phone signs them in, a caller's
channel becomes a live call, and a stop writes what was published on the way out."""

from __future__ import annotations

import asyncio
import logging

import fakeredis
import pytest

from hotline.adapters import Adapters
from hotline.controller import Controller
from hotline.kernel.asterisk.ami import AmiClient
from hotline.kernel.runtime.config import Settings
from hotline.kernel.runtime.db import create_engine
from tests.fakes.agi_asterisk import KEY, play_asterisk
from tests.fakes.ami_server import FakeAmi
from tests.fakes.events import catalogued
from tests.unit.call_channels import CALLER
from tests.unit.published import eventually, published


@pytest.fixture
async def world(tmp_path):
    ami = FakeAmi(list_events={"CoreShowChannels": [], "DeviceStateList": []})
    ami_port = await ami.start()
    server = fakeredis.FakeServer()
    settings = Settings(
        home=tmp_path / "home",
        asterisk_root=tmp_path / "asterisk",
        fastagi_port=0,
        smtp_port=0,
        ami_port=ami_port,
        ami_secret=ami.secret,
        agi_key=KEY,
        agents=("1001",),
        supervisors=("9001",),
        account_passwords={"1001": "phone-password", "9001": "supervisor-password"},
    )
    adapters = Adapters(
        ami=AmiClient("127.0.0.1", ami_port, "hotline", ami.secret, name="fake"),
        redis=fakeredis.FakeAsyncRedis(server=server),
        web_redis=fakeredis.FakeAsyncRedis(server=server),
        engine=create_engine(settings.effective_database_url),
    )
    controller = Controller(settings, adapters)
    await controller.start()
    redis = fakeredis.FakeAsyncRedis(server=server)
    await eventually(redis, lambda e: e["type"] == "controller.reconciled")  # AMI is in, calls rebuilt
    yield controller, ami, redis
    await controller.close()
    await ami.close()


async def test_an_agent_dialling_the_ready_code_is_ready_on_the_floor_and_hears_it(world):
    controller, ami, redis = world
    replies = {
        "GET VARIABLE": b"200 result=1 (1001)\n",
        "ANSWER": b"200 result=0\n",
        "STREAM FILE": b"200 result=0 endpos=0\n",
    }
    seen = await play_asterisk(controller.fastagi.port, "agent?code=*71", replies)
    state = await eventually(redis, lambda e: e["type"] == "agent.state" and e["agent"] == "1001")
    assert (state["state"], state["status"], state["activity"]) == ("ready", "available", "waiting")
    assert controller.acd.dispatcher.agent("1001").state.value == "ready"
    assert any("agent-ready" in command for command in seen), seen
    async with asyncio.timeout(5):  # the fallback queue follows: the member is no longer paused
        while ("PJSIP/1001", "false") not in [
            (a["Interface"], a["Paused"]) for a in ami.actions("QueuePause")
        ]:
            await asyncio.sleep(0.01)


async def test_a_callers_channel_becomes_a_live_call_on_the_wallboard(world):
    controller, ami, redis = world
    await ami.push_event(Event="Newchannel", **CALLER)
    ringing = await eventually(redis, lambda e: e["type"] == "call.ringing")
    assert (ringing["caller_number"], ringing["line"]) == ("13800138000", "12345")
    [call] = (await controller.live.calls()).values()
    assert (call["caller_number"], call["caller_name"]) == ("13800138000", "张三")


async def test_a_stop_writes_what_was_published_on_the_way_out_and_overruns_no_step(world, caplog):
    controller, _, redis = world
    abandoned = [catalogued("acd.abandoned", call_id=f"h-{n}.0", waited=40.0) for n in range(200)]
    for event in abandoned:  # queued without a pause: the outbox has written none of them yet
        await controller.outbox.publish(event)
    with caplog.at_level(logging.ERROR, logger="hotline.kernel.runtime.stopping"):
        await controller.close()
    written = [e["call_id"] for e in await published(redis) if e["type"] == "acd.abandoned"]
    assert written == [event["call_id"] for event in abandoned]
    assert caplog.records == []


async def test_a_call_that_rang_and_ended_has_its_record_in_the_database(world):
    controller, ami, redis = world
    await ami.push_event(Event="Newchannel", **CALLER)
    await ami.push_event(Event="HangupRequest", **CALLER)
    await ami.push_event(Event="Hangup", **CALLER, **{"Cause-txt": "Normal Clearing"})
    await eventually(redis, lambda e: e["type"] == "call.hangup")
    await controller.reports.records.write()
    [record] = await controller.reports.records.store.records(controller.reports.records.today(), 10)
    assert (record["caller_number"], record["line"], record["ended_by"]) == ("13800138000", "12345", "caller")
    assert record["outcome"] == "ivr"  # it never asked for an agent


async def test_emergency_words_in_a_waiting_callers_transcript_alert_the_floor(world):
    controller, ami, redis = world
    await ami.push_event(Event="Newchannel", **CALLER)
    await eventually(redis, lambda e: e["type"] == "call.ringing")
    assert controller.speech.transcripts.on_text is not None
    await controller.speech.transcripts.on_text("h-1.0", "楼道里着火了，到处是烟")
    alert = await eventually(redis, lambda e: e["type"] == "speech.emergency")
    assert (alert["number"], alert["words"], alert["caller_number"]) == ("119", ["着火"], "13800138000")
