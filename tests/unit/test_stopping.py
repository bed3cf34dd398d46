"""A stop step that hangs is abandoned, and the log names where every task waits."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hotline.kernel.runtime.stopping import awaiting, bounded


async def never_answers(event: asyncio.Event) -> None:
    await event.wait()


async def holds_the_step(event: asyncio.Event) -> None:
    await never_answers(event)


async def test_a_step_that_hangs_is_abandoned_and_says_where_it_waits(caplog: pytest.LogCaptureFixture):
    forever = asyncio.Event()
    bystander = asyncio.create_task(holds_the_step(forever), name="bystander")
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger="hotline.kernel.runtime.stopping"):
        finished = await bounded("the test step", holds_the_step(forever), seconds=0.1)
    assert finished is False
    [record] = caplog.records
    assert "the test step overran" in record.message
    assert "bystander:" in record.message
    assert "holds_the_step > " in record.message and "never_answers" in record.message
    bystander.cancel()


async def test_a_step_that_ends_in_time_is_not_reported(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.ERROR, logger="hotline.kernel.runtime.stopping"):
        assert await bounded("quick", asyncio.sleep(0.01), seconds=1) is True
    assert caplog.records == []


async def test_the_await_chain_runs_outermost_first():
    forever = asyncio.Event()
    task = asyncio.create_task(holds_the_step(forever))
    await asyncio.sleep(0)
    chain = awaiting(task)
    assert chain.index("holds_the_step") < chain.index("never_answers") < chain.index("wait")
    task.cancel()
