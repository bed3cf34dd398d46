"""Work done in rounds for as long as the process runs: the sweeps, the mailboxes, the notices, the purge."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(seconds: float, work: Callable[[], Awaitable[object]], what: str) -> None:
    """``work`` now, then again each ``seconds``, until cancelled; a round that fails is logged and the next
    one comes as planned (what it did not finish waits for that round)."""
    while True:
        try:
            await work()
        except Exception:
            log.exception("%s: a round failed; trying again in %g s", what, seconds)
        await asyncio.sleep(seconds)
