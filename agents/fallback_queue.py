"""The dialplan's fallback queue mirrors the ACD: an agent signed out or on a break is paused in it.

The fallback (``hotline-all`` in app_queue) answers callers while the
controller is away. It once rang agents on their break. Each agent's member is
now paused in app_queue whenever their status is not available, as the ACD
changes it. After every AMI login the whole roster is sent again, because
Asterisk may have restarted with every member unpaused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from hotline.acd.chart import VIEW, Status
from hotline.acd.engine import Agent, AgentState
from hotline.kernel.asterisk.ami import AmiClient, AmiError
from hotline.kernel.runtime.backoff import backoff_delays

log = logging.getLogger(__name__)

FALLBACK_QUEUE = "hotline-all"


def paused(state: AgentState) -> bool:
    return VIEW[state][0] != Status.AVAILABLE


class FallbackQueue:
    """Sends app_queue only what differs from what it was last told, in order, one action at a time."""

    def __init__(self, ami: AmiClient, queue: str = FALLBACK_QUEUE) -> None:
        self.ami = ami
        self.queue = queue
        self._wanted: dict[str, bool] = {}
        self._told: dict[str, bool] = {}
        self._changed = asyncio.Event()

    def agent_changed(self, account: str, state: AgentState) -> None:
        self._wanted[account] = paused(state)
        self._changed.set()

    def resync(self, agents: Iterable[Agent]) -> None:
        """After an AMI login: tell app_queue every member's pause again."""
        self._told.clear()
        for agent in agents:
            self._wanted[agent.account] = paused(agent.state)
        self._changed.set()

    async def run(self) -> None:
        delays = backoff_delays(0.5, 10.0)
        while True:
            await self._changed.wait()
            self._changed.clear()
            try:
                for account, pause in list(self._wanted.items()):
                    if self._told.get(account) != pause:
                        await self._tell(account, pause)
                        self._told[account] = pause
            except AmiError as exc:  # Asterisk away: the next login resyncs everything
                log.warning("fallback queue: could not pause or unpause members: %s", exc)
                await asyncio.sleep(next(delays))
                self._changed.set()
                continue
            delays = backoff_delays(0.5, 10.0)

    async def _tell(self, account: str, pause: bool) -> None:
        reply = await self.ami.action(
            "QueuePause",
            {
                "Queue": self.queue,
                "Interface": f"PJSIP/{account}",
                "Paused": "true" if pause else "false",
                "Reason": "坐席未就绪" if pause else "",
            },
            check=False,
        )
        if not reply.ok:  # not a member (a seat added since Asterisk last loaded queues.conf)
            log.info("fallback queue: %s: %s", account, reply.message)
