"""A supervisor's monitor as the floor sees it: refused when it cannot happen, the phone rung into ChanSpy
in the asked mode, switched by the API and by the phone's keys, ended, and every step audited."""

from __future__ import annotations

import asyncio

import pytest

from hotline.kernel.api.errors import ApiError
from hotline.kernel.api.identity import Actor, Role
from hotline.kernel.asterisk.ami import AmiUnavailable
from hotline.kernel.asterisk.channels import LiveCall
from hotline.kernel.runtime.db import create_engine
from hotline.schema import bring_up_to_date
from hotline.supervision.log import MonitorLog
from hotline.supervision.monitors import MONITOR_CONTEXT, Monitors
from hotline.supervision.spying import MonitorMode, chanspy_options
from tests.fakes.ami_client import RecordingAmi

BOSS = Actor("王班长", Role.SUPERVISOR)


def bridged_call() -> LiveCall:
    call = LiveCall("1700000000.1", "13800138000", "", "12345", 0.0, state="bridged", agent="1001")
    call.channels = {"PJSIP/carrier-00000001", "PJSIP/1001-00000002"}
    call.bridged = set(call.channels)
    return call


@pytest.fixture
async def floor(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}")
    await bring_up_to_date(engine)
    ami, events = RecordingAmi(), []
    calls = {"1700000000.1": bridged_call()}

    async def publish(event: dict[str, object]) -> None:
        events.append(event)

    monitors = Monitors(ami, calls.get, ("9001", "9002"), publish, MonitorLog(engine))  # type: ignore[arg-type]
    yield monitors, ami, events, calls
    await monitors.close()
    await engine.dispose()


async def run(works) -> None:
    for work in works:
        await work()


def test_each_mode_starts_chanspy_quiet_switchable_by_keys_and_ending_with_the_call():
    assert chanspy_options(MonitorMode.LISTEN) == "qdE"
    assert chanspy_options(MonitorMode.WHISPER) == "qdEw", "only the agent hears the supervisor"
    assert chanspy_options(MonitorMode.BARGE) == "qdEB", "caller and agent both hear the supervisor"
    assert MonitorMode.parse("密语") == MonitorMode.WHISPER


def test_the_spied_channel_is_the_agents_own_leg():
    assert bridged_call().agent_leg() == "PJSIP/1001-00000002"
    alone = bridged_call()
    alone.channels = {"PJSIP/carrier-00000001"}
    assert alone.agent_leg() is None


async def test_a_monitor_is_refused_when_it_cannot_happen(floor):
    monitors, _, events, calls = floor
    with pytest.raises(ApiError) as refused:
        await monitors.start("no-such-call", MonitorMode.LISTEN, "9001", BOSS)
    assert (refused.value.error_id, refused.value.status) == ("unknown-call", 404)
    calls["waiting"] = LiveCall("waiting", "13900000000", "", "12345", 0.0, state="answered")
    with pytest.raises(ApiError) as refused:
        await monitors.start("waiting", MonitorMode.LISTEN, "9001", BOSS)
    assert refused.value.error_id == "call-not-with-agent", (
        "a caller still in the queue has no agent to spy on"
    )
    with pytest.raises(ApiError) as refused:
        await monitors.start("1700000000.1", MonitorMode.LISTEN, "1002", BOSS)
    assert (refused.value.error_id, refused.value.status) == ("not-a-supervisor-phone", 422)
    await monitors.start("1700000000.1", MonitorMode.LISTEN, "9001", BOSS)
    with pytest.raises(ApiError) as refused:
        await monitors.start("1700000000.1", MonitorMode.BARGE, "9001", BOSS)
    assert refused.value.error_id == "phone-busy"
    assert [e["action"] for e in events] == ["start"], "refusals start nothing"


async def test_a_monitor_rings_the_phone_into_chanspy_switches_and_ends_with_every_step_audited(floor):
    monitors, ami, events, _ = floor
    monitor = await monitors.start("1700000000.1", MonitorMode.WHISPER, "9001", BOSS)
    await asyncio.sleep(0)  # the ring starts in the background; the API has answered already
    (rung,) = ami.originated
    assert (rung["Channel"], rung["Context"], rung["ChannelId"]) == (
        "PJSIP/9001",
        MONITOR_CONTEXT,
        f"monitor-{monitor.monitor_id}",
    )
    assert set(rung["Variable"]) == {
        "HOTLINE_SPY_TARGET=PJSIP/1001-00000002",
        "HOTLINE_SPY_OPTIONS=qdEw",
    }
    with pytest.raises(ApiError) as early:
        await monitors.switch(monitor.monitor_id, MonitorMode.BARGE, BOSS)
    assert early.value.error_id == "monitor-not-connected", "nothing to switch before the phone answers"

    spyer = "PJSIP/9001-00000003"
    assert monitors.hear({"Event": "Newchannel", "Channel": spyer, "Uniqueid": rung["ChannelId"]}) == []
    await run(monitors.hear({"Event": "ChanSpyStart", "SpyerChannel": spyer, "SpyeeChannel": "PJSIP/1001-2"}))
    ami.answer.set_result("Success")
    assert monitor.state == "connected"

    await monitors.switch(monitor.monitor_id, MonitorMode.BARGE, BOSS)
    assert ami.actions[-1] == (
        "PlayDTMF",
        {"Channel": spyer, "Digit": "6", "Duration": "120", "Receive": "true"},
    ), "the API presses the phone's own key"
    await run(monitors.hear({"Event": "DTMFEnd", "Channel": spyer, "Digit": "4", "Direction": "Received"}))
    assert monitor.mode == MonitorMode.LISTEN, "key 4 on the supervisor's phone"
    assert monitors.hear({"Event": "DTMFEnd", "Channel": spyer, "Digit": "4", "Direction": "Sent"}) == []

    await monitors.end(monitor.monitor_id, BOSS)
    assert ami.actions[-1] == ("Hangup", {"Channel": spyer})
    assert monitors.hear({"Event": "Hangup", "Channel": spyer}) == [], "already told"
    assert monitors.active() == []

    steps = [(e["action"], e["actor"], e["mode"]) for e in events]
    assert steps == [
        ("start", "王班长", "whisper"),
        ("connected", "王班长", "whisper"),
        ("switch", "王班长", "barge"),
        ("switch", "phone", "listen"),
        ("end", "王班长", "listen"),
    ]
    trail = await monitors.audit.entries("1700000000.1")
    assert [(t["action"], t["actor"], t["mode"]) for t in reversed(trail)] == steps


async def test_a_phone_that_does_not_answer_ends_the_monitor_as_failed(floor):
    monitors, ami, events, _ = floor
    monitor = await monitors.start("1700000000.1", MonitorMode.LISTEN, "9001", BOSS)
    await asyncio.sleep(0)
    ami.answer.set_result("Failure")
    async with asyncio.timeout(5):
        while len(events) < 2:
            await asyncio.sleep(0.01)
    assert events[-1]["action"] == "failed" and monitor.state == "ended"
    assert monitors.active() == [], "the phone is free for the next monitor"


async def test_a_phone_the_call_outlived_or_that_hung_up_ends_the_monitor(floor):
    monitors, ami, events, _ = floor
    monitor = await monitors.start("1700000000.1", MonitorMode.LISTEN, "9002", BOSS)
    await asyncio.sleep(0)
    spyer = "PJSIP/9002-00000009"
    monitors.hear({"Event": "Newchannel", "Channel": spyer, "Uniqueid": f"monitor-{monitor.monitor_id}"})
    await run(monitors.hear({"Event": "ChanSpyStart", "SpyerChannel": spyer}))
    ami.answer.set_result("Success")
    await run(monitors.hear({"Event": "Hangup", "Channel": spyer}))
    assert events[-1]["action"] == "end" and events[-1]["actor"] == "phone"
    with pytest.raises(ApiError) as gone:
        await monitors.end(monitor.monitor_id, BOSS)
    assert (gone.value.error_id, gone.value.status) == ("unknown-monitor", 404)


async def test_an_asterisk_that_cannot_be_reached_fails_the_monitor(floor):
    monitors, ami, events, _ = floor

    async def unreachable(headers, **_):
        raise AmiUnavailable("AMI down")

    ami.originate = unreachable
    await monitors.start("1700000000.1", MonitorMode.LISTEN, "9001", BOSS)
    async with asyncio.timeout(5):
        while events[-1]["action"] != "failed":
            await asyncio.sleep(0.01)
