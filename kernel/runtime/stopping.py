"""A stop that always ends: each step is bounded, and one that overruns names what it waits for.

An operator's Ctrl-C (or systemd's SIGTERM) must free the ports for the next
start. A step that takes longer than its bound is abandoned, and the log says
which step it was and where every task still running is suspended, so the
cause can be found from the log alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable

log = logging.getLogger(__name__)

#: How long one step of a stop may take before it is abandoned.
STEP_SECONDS = 2.0


def awaiting(task: asyncio.Task[object]) -> str:
    """Where a task is suspended: its chain of awaits, outermost first (``file:line function``)."""
    places = []
    awaited: object = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is None:
            break
        places.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return " > ".join(places) or "(not started)"


async def bounded(step: str, work: Awaitable[object], seconds: float = STEP_SECONDS) -> bool:
    """Run one step of a stop; False (and an error naming every waiting task) when it overran."""
    try:
        async with asyncio.timeout(seconds):
            await work
        return True
    except TimeoutError:
        current = asyncio.current_task()
        tasks = sorted(
            (task for task in asyncio.all_tasks() if task is not current and not task.done()),
            key=lambda task: task.get_name(),
        )
        waits = "".join(f"\n  {task.get_name()}: {awaiting(task)}" for task in tasks)
        log.error("stopping: %s overran %.0f s and was abandoned; still running:%s", step, seconds, waits)
        return False


async def cancelled(*tasks: asyncio.Task[None]) -> None:
    """Cancel the tasks and wait until each has ended."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
