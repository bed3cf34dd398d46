"""The fallback queue follows the ACD: members paused while their agent is signed out or on a break."""

from __future__ import annotations

import asyncio

import pytest

from hotline.acd.engine import Agent, AgentState
from hotline.agents.fallback_queue import FallbackQueue
from hotline.kernel.asterisk.ami import AmiClient
from tests.fakes.ami_server import FakeAmi


@pytest.fixture
async def mirror():
    ami = FakeAmi()
    port = await ami.start()
    client = AmiClient("127.0.0.1", port, "hotline", ami.secret)
    await client.connect()
    queue = FallbackQueue(client)
    running = asyncio.create_task(queue.run())
    yield queue, ami
    running.cancel()
    await client.close()
    await ami.close()


async def told(ami: FakeAmi, count: int) -> list[tuple[str, str]]:
    async with asyncio.timeout(3):
        while len(ami.actions("QueuePause")) < count:
            await asyncio.sleep(0.01)
    return [(a["Interface"], a["Paused"]) for a in ami.actions("QueuePause")]


async def test_a_break_pauses_the_member_and_ready_unpauses_it(mirror):
    queue, ami = mirror
    queue.agent_changed("1001", AgentState.BREAK)
    queue.agent_changed("1002", AgentState.READY)
    assert await told(ami, 2) == [("PJSIP/1001", "true"), ("PJSIP/1002", "false")]
    queue.agent_changed("1002", AgentState.TALKING)  # still available: nothing to tell
    queue.agent_changed("1001", AgentState.READY)
    assert (await told(ami, 3))[2:] == [("PJSIP/1001", "false")]
    assert ami.actions("QueuePause")[0]["Queue"] == "hotline-all"


async def test_after_a_login_every_member_is_told_again(mirror):
    queue, ami = mirror
    queue.agent_changed("1001", AgentState.LOGGED_OUT)
    await told(ami, 1)
    queue.resync(
        [Agent("1001", {"12345": 5}, AgentState.LOGGED_OUT), Agent("1002", {"12345": 5}, AgentState.WRAP_UP)]
    )
    assert (await told(ami, 3))[1:] == [("PJSIP/1001", "true"), ("PJSIP/1002", "false")]
