"""The calls Asterisk carries now, as the floor sees them: the call tracker's news, written in order.

Each call event updates the live-call table in Redis and goes to the event
stream through the ordered outbox; listeners in the process (the call records,
transfers, recordings) hear it as it is published.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping

from hotline.kernel.asterisk.ami import AmiClient, Message
from hotline.kernel.asterisk.channels import CallTracker, LiveCall
from hotline.kernel.runtime.live import LiveState
from hotline.kernel.runtime.outbox import LiveOutbox

log = logging.getLogger(__name__)
#: The AMI events the tracker follows a call by.
CALL_EVENTS = (
    "Newchannel",
    "Newstate",
    "NewCallerid",
    "BridgeEnter",
    "BridgeLeave",
    "HangupRequest",
    "Hangup",
)


class LiveCalls:
    def __init__(self, tracker: CallTracker, live: LiveState, outbox: LiveOutbox) -> None:
        self.tracker, self.live, self.outbox = tracker, live, outbox

    @property
    def calls(self) -> dict[str, LiveCall]:
        """The table now (a reconcile replaces it: ask again each time)."""
        return self.tracker.calls

    def get(self, call_id: str) -> LiveCall | None:
        return self.tracker.calls.get(call_id)

    def hear(self, event: Mapping[str, object]) -> None:
        for call_event in self.tracker.handle(event):
            self._write(call_event)

    async def remember(self) -> None:
        """Calls that end while no controller runs still get their hang-up event, at the first reconcile."""
        self.tracker.remember(await self.live.calls())

    async def reconcile(self, ami: AmiClient, clock: Callable[[], float]) -> list[Message]:
        """After an AMI login: the table rebuilt from what Asterisk has now; returns the channels listed."""
        uptime = await ami.uptime()
        started = None if uptime is None else clock() - uptime
        channels = await ami.action("CoreShowChannels", idempotent=True)
        for call_event in self.tracker.reconcile(channels.events, asterisk_started=started):
            self._write(call_event)
        snapshot = {call_id: call.summary() for call_id, call in self.tracker.calls.items()}
        self.outbox.put(functools.partial(self.live.replace_calls, snapshot))
        return list(channels.events)

    def _write(self, call_event: dict[str, object]) -> None:
        call_id = str(call_event["call_id"])
        call = self.tracker.calls.get(call_id)
        if call is None:
            self.outbox.put(functools.partial(self.live.remove_call, call_id))
        else:
            self.outbox.put(functools.partial(self.live.put_call, call_id, call.summary()))
        self.outbox.announce(call_event)
