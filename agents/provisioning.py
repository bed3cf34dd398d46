"""Asterisk's agent endpoints from the agent table: render pjsip.conf and the fallback queue, then reload.

Rendered files plus a module reload rather than realtime: no ODBC in the
image, the files stay readable by an operator, and a reload of res_pjsip keeps
the calls that are up. A change made while Asterisk is away is written at once
and reloaded when AMI is back (Asterisk that restarts in between reads the files anyway).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from agents.directory import AgentRecord
from kernel.asterisk.ami import AmiClient
from kernel.asterisk.conf import Account

log = logging.getLogger(__name__)

#: The files that name agents, and the modules that read them.
AGENT_FILES = ("pjsip.conf", "queues.conf")
RELOADED_MODULES = ("res_pjsip.so", "app_queue.so")

#: Renders the named files into a folder with these agents (the composition root knows the whole context);
#: returns the files whose text changed.
RenderAgents = Callable[[Path, Sequence[str], Sequence[Account]], list[Path]]


def endpoint_accounts(records: Iterable[AgentRecord]) -> list[Account]:
    """Only agents who still work here get an endpoint; a stopped agent's phone can no longer register."""
    return [
        Account(r.profile.account, r.sip_digest, "from-agents", r.profile.label)
        for r in records
        if r.profile.active
    ]


class Provisioner:
    def __init__(self, render: RenderAgents, etc_dir: Path, ami: AmiClient) -> None:
        self.render = render
        self.ami = ami
        self.etc_dir = etc_dir
        self._lock = asyncio.Lock()
        self._reload_due = False

    async def provision(self, records: Iterable[AgentRecord]) -> bool:
        """Write the agents' endpoints; reload Asterisk if a file changed. True when Asterisk has them now."""
        async with self._lock:
            accounts = endpoint_accounts(records)
            # Rendering and writing files is blocking work: off the event loop that carries the calls.
            changed = await asyncio.to_thread(self.render, self.etc_dir, AGENT_FILES, accounts)
            self._reload_due = self._reload_due or bool(changed)
            return await self._reload()

    async def catch_up(self) -> None:
        """After AMI reconnects: reload what was written while Asterisk was away."""
        async with self._lock:
            await self._reload()

    async def _reload(self) -> bool:
        if not self._reload_due:
            return True
        if not self.ami.connected:
            log.warning("agent endpoints written; Asterisk will load them when AMI is back")
            return False
        for module in RELOADED_MODULES:
            await self.ami.action("Reload", {"Module": module})
        self._reload_due = False
        log.info("agent endpoints reloaded into asterisk")
        return True
