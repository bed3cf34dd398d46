"""The ordered outbox: every write to the live state and the event stream, in the order it was made.

AMI events are applied by one writer (the event loop); what they cause in Redis
is queued here and written by one task, so the stream and the live-call table
never disagree about order, and a Redis outage delays writes without losing or
reordering them. Listeners in the process hear each published event at once
(the call records, say), by type or all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable

from hotline.kernel.runtime.backoff import backoff_delays
from hotline.kernel.runtime.events import UncataloguedEvent
from hotline.kernel.runtime.live import LiveState

log = logging.getLogger(__name__)

Write = Callable[[], Awaitable[object]]
#: Hears a published event in the process, synchronously, before it is written.
Listener = Callable[[dict[str, object]], None]
#: The type that subscribes a listener to every event.
EVERY_EVENT = "*"


class LiveOutbox:
    def __init__(self, live: LiveState) -> None:
        self.live = live
        self._writes: asyncio.Queue[Write] = asyncio.Queue()
        self._listeners: dict[str, list[Listener]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None

    def listen(self, event_type: str, listener: Listener) -> None:
        """``listener`` hears every published event of ``event_type`` (``EVERY_EVENT``: all of them)."""
        self._listeners[event_type].append(listener)

    def put(self, write: Write) -> None:
        """Queue one write behind everything already queued."""
        self._writes.put_nowait(write)

    def put_all(self, writes: Iterable[Write]) -> None:
        for write in writes:
            self._writes.put_nowait(write)

    async def publish(self, event: dict[str, object]) -> None:
        """Queue an event for the shared stream; the process's listeners hear it now."""
        self.announce(event)

    def announce(self, event: dict[str, object]) -> None:
        """``publish`` for callers outside a coroutine (an AMI event's handler)."""
        self._writes.put_nowait(functools.partial(self.live.publish, event))
        for listener in (*self._listeners[EVERY_EVENT], *self._listeners[str(event.get("type"))]):
            try:
                listener(event)
            except Exception:
                log.exception("a listener of %s failed", event.get("type"))

    async def publish_to_agent(self, account: str, event: dict[str, object]) -> None:
        """Queue an event for one agent's socket only (a screen pop carries the caller's history)."""
        self._writes.put_nowait(functools.partial(self.live.publish_to_agent, account, event))

    def start(self) -> None:
        self._task = asyncio.create_task(self._drain(), name="outbox")

    async def flush(self) -> None:
        """What the calls published on their way out is written before Redis closes."""
        if self._task is not None and not self._task.done():
            await self._writes.join()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _drain(self) -> None:
        while True:
            write = await self._writes.get()
            for delay in backoff_delays(0.1, 2.0):
                try:
                    await write()
                    break
                except UncataloguedEvent:  # a defect, not an outage: retrying would hold up every event
                    log.exception("event not published")
                    break
                except Exception as exc:
                    log.warning("redis write failed, retrying: %s", exc)
                    await asyncio.sleep(delay)
            self._writes.task_done()
