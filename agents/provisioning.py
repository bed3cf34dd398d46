"""Asterisk's agent endpoints from the agent table: render pjsip.conf and the fallback queue, then reload
(``kernel.asterisk.reloads`` says why files and a reload)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from hotline.agents.directory import AgentRecord
from hotline.kernel.asterisk.ami import AmiClient
from hotline.kernel.asterisk.conf import Account
from hotline.kernel.asterisk.reloads import ReloadedFiles

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
        self.render, self.etc_dir = render, etc_dir
        self.files = ReloadedFiles(ami, RELOADED_MODULES, "agent endpoints")

    async def provision(self, records: Iterable[AgentRecord]) -> bool:
        """Write the agents' endpoints; reload Asterisk if a file changed. True when Asterisk has them now."""
        accounts = endpoint_accounts(records)
        return await self.files.write(functools.partial(self.render, self.etc_dir, AGENT_FILES, accounts))

    async def catch_up(self) -> None:
        """After AMI reconnects: reload what was written while Asterisk was away."""
        await self.files.catch_up()
