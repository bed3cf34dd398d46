"""Where a mail's bytes become its intake (``intake.mail_intake.read_mail``): off the event loop.

In a thread by default. The controller reads them in a process of its own:
the parser holds a thread's share of the interpreter for long stretches (a
25 MB mail stalled the event loop for about a tenth of a second, four at once
for over half a second), and a mail's memory (about eight times its size while
it is read) is then the worker's, not the controller's. There a mail's reading
is also bounded in time: the worker of a mail that runs past it is killed, and
the mail refused for good.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from hotline.intake.mail_intake import MailIntake, MailRefused, read_mail

log = logging.getLogger(__name__)
#: bytes, the category and region of an unclassified message → the mail's intake and files.
ReadMail = Callable[[bytes, str, str], Awaitable[MailIntake]]
#: The longest one mail may take to read: a mail within the intake's bounds takes under 2 s (32 parts
#: nested in 25 MB: 1.4 s).
READ_SECONDS = 30.0
#: Mails remembered as having killed the worker once; a second death on the same bytes refuses them.
FATAL_KEPT = 64


async def in_thread(raw: bytes, category: str, region: str) -> MailIntake:
    return await asyncio.to_thread(read_mail, raw, category, region)


class MailReader:
    """One worker process, started at the first mail, that reads mails one at a time. A worker that died
    (out of memory) fails that mail for now (``BrokenProcessPool``: the sender tries again) and the next
    mail starts another; the same mail killing it twice is refused for good, as is one read past
    ``seconds`` (its worker is killed)."""

    def __init__(
        self,
        seconds: float = READ_SECONDS,
        read: Callable[[bytes, str, str], MailIntake] = read_mail,
    ) -> None:
        self.seconds = seconds
        self._read = read  # a module-level function: the worker imports it by name
        self._pool: ProcessPoolExecutor | None = None
        self._one_at_a_time = asyncio.Lock()  # so the time bound counts this mail's reading alone
        self._fatal: OrderedDict[str, None] = OrderedDict()

    async def read(self, raw: bytes, category: str, region: str) -> MailIntake:
        async with self._one_at_a_time:
            if self._pool is None:
                # forkserver: a clean process, not a copy of the controller's threads and connections
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
            try:
                reading = asyncio.get_running_loop().run_in_executor(
                    self._pool, self._read, raw, category, region
                )
                return await asyncio.wait_for(reading, self.seconds)
            except TimeoutError:
                log.warning("a mail took longer than %.0f s to read; its reader is stopped", self.seconds)
                self._stop()
                raise MailRefused("mail-too-slow", "邮件过于复杂，无法在限定时间内读取") from None
            except BrokenProcessPool:
                self._pool = None
                digest = hashlib.sha256(raw).hexdigest()
                if digest in self._fatal:
                    log.error("the mail reader's process died again on the same mail; the mail is refused")
                    raise MailRefused("mail-kills-reader", "无法读取此邮件") from None
                self._fatal[digest] = None
                if len(self._fatal) > FATAL_KEPT:
                    self._fatal.popitem(last=False)
                log.error("the mail reader's process died; the next mail starts another")
                raise

    def _stop(self) -> None:
        """Kill the worker now (a shutdown would wait for the mail it is stuck on)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for worker in list(pool._processes.values()):  # no public way to stop a running task
            worker.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
