"""Work in rounds: a failed round is logged and the next comes; a cancel ends it."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hotline.kernel.runtime.rounds import every


async def test_a_failed_round_is_logged_and_the_next_one_comes(caplog) -> None:
    rounds: list[int] = []

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 2:
            raise ConnectionError("mail server away")

    task = asyncio.create_task(every(0.01, work, "IMAP mailbox"))
    with caplog.at_level(logging.ERROR):
        while len(rounds) < 4:
            await asyncio.sleep(0.005)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert [r.getMessage() for r in caplog.records] == [
        "IMAP mailbox: a round failed; trying again in 0.01 s"
    ]
