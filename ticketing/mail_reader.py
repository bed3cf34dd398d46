"""Where a mail's bytes become its intake (``ticketing.mail_intake.read_mail``): off the event loop.

In a thread by default. The controller reads them in a process of its own:
the parser holds a thread's share of the interpreter for long stretches (a
25 MB mail stalled the event loop for about a tenth of a second, four at once
for over half a second), and a mail's memory (about eight times its size while
it is read) is then the worker's, not the controller's.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ticketing.mail_intake import MailIntake, read_mail

log = logging.getLogger(__name__)
#: bytes, the category and region of an unclassified message → the mail's intake and files.
ReadMail = Callable[[bytes, str, str], Awaitable[MailIntake]]


async def in_thread(raw: bytes, category: str, region: str) -> MailIntake:
    return await asyncio.to_thread(read_mail, raw, category, region)


class MailReader:
    """One worker process, started at the first mail, that reads mails one at a time; a worker that died
    (out of memory) fails that mail for now, and the next mail starts another."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def read(self, raw: bytes, category: str, region: str) -> MailIntake:
        if self._pool is None:
            # forkserver: a clean process, not a copy of the controller's threads and connections
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, read_mail, raw, category, region
            )
        except BrokenProcessPool:
            log.error("the mail reader's process died; the next mail starts another")
            self._pool = None
            raise

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
