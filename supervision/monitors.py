"""The monitors supervisors run: the supervisor's phone rung and attached to an agent's call, switched
between modes, ended; each step in the audit trail and on the floor's event stream.

The controller feeds ``hear`` every AMI event: the monitor learns its phone's
channel, that ChanSpy attached it, keys pressed on the phone, and its end.
``hear`` changes state at once and returns the writes (audit, events) to run
in order.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hotline.kernel.api.errors import ApiError
from hotline.kernel.api.identity import Actor
from hotline.kernel.asterisk.ami import AmiClient, AmiError
from hotline.kernel.asterisk.channels import LiveCall
from hotline.kernel.runtime.events import Publish
from hotline.supervision.log import LogEntry, MonitorLog
from hotline.supervision.spying import MODE_KEY, MODE_OF_KEY, MonitorMode, chanspy_options

log = logging.getLogger(__name__)

#: The dialplan context that runs ChanSpy on the supervisor's phone (asterisk-conf/extensions.conf).
MONITOR_CONTEXT = "hotline-monitor"
BY_PHONE = "phone"  # the actor written for what happened on the phone itself: a key pressed, a hang-up

Work = Callable[[], Awaitable[None]]


class MonitorState(StrEnum):
    CALLING = "calling"  # the supervisor's phone rings
    CONNECTED = "connected"  # ChanSpy is attached to the agent's channel
    ENDED = "ended"


@dataclass
class Monitor:
    monitor_id: str
    call_id: str
    agent: str
    phone: str
    mode: MonitorMode
    by: str
    state: MonitorState = MonitorState.CALLING
    channel: str = ""  # the supervisor phone's channel, once Asterisk made it

    @property
    def unique_id(self) -> str:
        return f"monitor-{self.monitor_id}"

    def view(self) -> dict[str, Any]:
        return {
            "monitor_id": self.monitor_id,
            "call_id": self.call_id,
            "agent": self.agent,
            "phone": self.phone,
            "mode": self.mode.value,
            "mode_label": self.mode.label,
            "state": self.state.value,
            "by": self.by,
        }


class Monitors:
    def __init__(
        self,
        ami: AmiClient,
        live_call: Callable[[str], LiveCall | None],
        phones: Collection[str],
        publish: Publish,
        audit: MonitorLog,
        ring_seconds: int = 30,
    ) -> None:
        self.ami = ami
        self.live_call = live_call
        self.phones = phones
        self.publish = publish
        self.audit = audit
        self.ring_seconds = ring_seconds
        self._monitors: dict[str, Monitor] = {}
        self._rings: set[asyncio.Task[None]] = set()

    def active(self) -> list[Monitor]:
        return [m for m in self._monitors.values() if m.state != MonitorState.ENDED]

    def get(self, monitor_id: str) -> Monitor:
        monitor = self._monitors.get(monitor_id)
        if monitor is None or monitor.state == MonitorState.ENDED:
            raise ApiError("unknown-monitor", f"没有进行中的监听 {monitor_id}", 404)
        return monitor

    async def start(self, call_id: str, mode: MonitorMode, phone: str, actor: Actor) -> Monitor:
        """Ring the supervisor's phone; once answered, ChanSpy attaches it to the agent's leg."""
        call = self.live_call(call_id)
        if call is None:
            raise ApiError("unknown-call", f"没有进行中的通话 {call_id}", 404)
        target = call.agent_leg() if call.state == "bridged" else None
        if not call.agent or target is None:
            raise ApiError("call-not-with-agent", "该通话尚未接通坐席，无法监听", 409)
        if phone not in self.phones:
            raise ApiError(
                "not-a-supervisor-phone", f"{phone} 不是班长话机（可用：{'、'.join(self.phones)}）", 422
            )
        if any(m.phone == phone for m in self.active()):
            raise ApiError("phone-busy", f"话机 {phone} 正在监听另一通话", 409)
        monitor = Monitor(secrets.token_hex(6), call_id, call.agent, phone, mode, actor.name)
        self._monitors[monitor.monitor_id] = monitor
        await self._record(monitor, "start", actor.name)
        ring = asyncio.create_task(self._ring(monitor, target), name=f"monitor-{monitor.monitor_id}")
        self._rings.add(ring)
        ring.add_done_callback(self._rings.discard)
        return monitor

    async def switch(self, monitor_id: str, mode: MonitorMode, actor: Actor) -> Monitor:
        """The same key the supervisor would press on the phone, received on the phone's channel."""
        monitor = self.get(monitor_id)
        if monitor.state != MonitorState.CONNECTED:
            raise ApiError("monitor-not-connected", "班长话机尚未接通，稍后再切换", 409)
        if mode != monitor.mode:
            # Set first: the key's own DTMF event may arrive before the action's reply.
            before, monitor.mode = monitor.mode, mode
            reply = await self.ami.action(
                "PlayDTMF",
                {"Channel": monitor.channel, "Digit": MODE_KEY[mode], "Duration": "120", "Receive": "true"},
                check=False,
            )
            if not reply.ok:
                monitor.mode = before
                raise ApiError("monitor-not-connected", "班长话机已不在通话中", 409)
            await self._record(monitor, "switch", actor.name)
        return monitor

    async def end(self, monitor_id: str, actor: Actor) -> Monitor:
        monitor = self.get(monitor_id)
        monitor.state = MonitorState.ENDED
        await self._record(monitor, "end", actor.name)
        if monitor.channel:
            await self.ami.action("Hangup", {"Channel": monitor.channel}, check=False)
        return monitor

    def hear(self, event: Mapping[str, object]) -> list[Work]:
        """Apply one AMI event; returns the audit and event writes it causes, in order."""
        kind = event.get("Event")
        if kind == "Newchannel":
            monitor = next((m for m in self.active() if m.unique_id == event.get("Uniqueid")), None)
            if monitor is not None:
                monitor.channel = str(event.get("Channel", ""))
            return []
        channel = str(event.get("SpyerChannel") if kind == "ChanSpyStart" else event.get("Channel", ""))
        monitor = next((m for m in self._monitors.values() if channel and m.channel == channel), None)
        if monitor is None:
            return []
        if kind == "ChanSpyStart" and monitor.state == MonitorState.CALLING:
            monitor.state = MonitorState.CONNECTED
            return [self._note(monitor, "connected", monitor.by)]
        if (
            kind == "DTMFEnd"
            and event.get("Direction") == "Received"
            and (mode := MODE_OF_KEY.get(str(event.get("Digit")))) is not None
            and mode != monitor.mode
            and monitor.state == MonitorState.CONNECTED
        ):
            monitor.mode = mode
            return [self._note(monitor, "switch", BY_PHONE)]
        if kind == "Hangup":
            log.info("monitor %s: %s hung up (%s)", monitor.monitor_id, channel, event.get("Cause-txt", ""))
            del self._monitors[monitor.monitor_id]
            if monitor.state != MonitorState.ENDED:  # the call ended, or the supervisor hung up
                monitor.state = MonitorState.ENDED
                return [self._note(monitor, "end", BY_PHONE)]
        return []

    async def close(self) -> None:
        for ring in list(self._rings):
            ring.cancel()
        await asyncio.gather(*self._rings, return_exceptions=True)

    async def _ring(self, monitor: Monitor, target: str) -> None:
        variables = {"HOTLINE_SPY_TARGET": target, "HOTLINE_SPY_OPTIONS": chanspy_options(monitor.mode)}
        try:
            reply = await self.ami.originate(
                {
                    "Channel": f"PJSIP/{monitor.phone}",
                    "Context": MONITOR_CONTEXT,
                    "Exten": "s",
                    "Priority": "1",
                    "CallerID": f'"{monitor.mode.label} {monitor.agent}" <{monitor.agent}>',
                    "ChannelId": monitor.unique_id,
                    "Timeout": str(self.ring_seconds * 1000),
                    "Variable": [f"{k}={v}" for k, v in variables.items()],
                },
                timeout=self.ring_seconds + 10,
            )
            answered = reply.get("Response") == "Success"
        except AmiError as exc:
            log.warning("monitor %s: the supervisor's phone was not rung: %s", monitor.monitor_id, exc)
            answered = False
        if not answered:
            log.info("monitor %s: supervisor phone %s did not answer", monitor.monitor_id, monitor.phone)
            self._monitors.pop(monitor.monitor_id, None)
            if monitor.state == MonitorState.CALLING:
                monitor.state = MonitorState.ENDED
                await self._record(monitor, "failed", monitor.by)

    async def _record(self, monitor: Monitor, action: str, actor: str) -> None:
        await self._note(monitor, action, actor)()

    def _note(self, monitor: Monitor, action: str, actor: str) -> Work:
        """The monitor as it is now: written to the audit trail first (the API answers only once it holds),
        then to the floor's stream."""
        entry = LogEntry(
            monitor.monitor_id, action, actor, monitor.call_id, monitor.agent, monitor.phone, monitor.mode
        )
        event = {"type": "supervision.monitor", "action": action, "actor": actor, **monitor.view()}

        async def write() -> None:
            await self.audit.write(entry)
            await self.publish(event)

        return write
