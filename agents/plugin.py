"""Seat administration wired from the core: the agent table (seeded from the settings on the first
start), each seat's phone provisioned in Asterisk, the dialplan's fallback queue kept in step with the
agents' states, and the routes that add, change and stop seats."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Mapping, Sequence

from hotline.acd.dispatch import Dispatcher
from hotline.agents.directory import AgentDirectory, AgentRecord
from hotline.agents.fallback_queue import FallbackQueue
from hotline.agents.http import AGENT_ROUTES, add_agent_state
from hotline.agents.profiles import AgentProfile
from hotline.agents.provisioning import Provisioner, RenderAgents
from hotline.agents.roster import Roster
from hotline.kernel.asterisk.ami import Message
from hotline.kernel.asterisk.conf import sip_digest
from hotline.kernel.wiring import Deps, Plugin


@dataclasses.dataclass(frozen=True)
class Agents:
    roster: Roster
    fallback: FallbackQueue
    plugin: Plugin


def setup(
    deps: Deps,
    dispatcher: Dispatcher,
    render: RenderAgents,
    seed_skills: Mapping[str, Mapping[str, int]],
    reserved: Collection[str],
) -> Agents:
    settings = deps.settings
    provisioner = Provisioner(render, settings.host_path(f"{settings.asterisk_instance_dir}/etc"), deps.ami)
    roster = Roster(AgentDirectory(deps.engine), provisioner.provision, dispatcher, reserved)
    fallback = FallbackQueue(deps.ami)
    # The settings' agents seed the agent table on first start; after that the table rules.
    seeds = [
        AgentRecord(
            AgentProfile(account, "", dict(levels)), sip_digest(account, settings.password_for(account))
        )
        for account, levels in seed_skills.items()
    ]

    async def start() -> None:
        # An agent table still empty means no controller ran here: Redis has no ACD state to have lost.
        first_start = not await roster.directory.all()
        await roster.start(seeds)
        await dispatcher.restore(roster.active_skills(), expect_state=not first_start)

    async def reconcile(_channels: Sequence[Message]) -> None:
        fallback.resync(dispatcher.agents())

    # Endpoints written while Asterisk was away are reloaded at each login, before the phones are listed.
    deps.ami.on_connect(provisioner.catch_up)

    plugin = Plugin(
        "agents",
        routes=AGENT_ROUTES,
        app_keys=functools.partial(add_agent_state, dispatcher=dispatcher, roster=roster),
        start=[start],
        tasks=[("fallback-queue", fallback.run)],
        reconcile=[reconcile],
    )
    return Agents(roster, fallback, plugin)
