"""The ACD wired from the core: one dispatcher (the one writer of agent and queue state), fed by AMI's
news of the agents' phones; its routes are the agents' desk's and the floor's (workspace, agents)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from hotline.acd.dispatch import AgentWatch, Dispatcher, StartCallback
from hotline.acd.engine import Engine
from hotline.acd.engine import Settings as AcdSettings
from hotline.acd.feed import PHONE_EVENTS, PhoneFeed
from hotline.acd.state_store import AcdStateStore
from hotline.kernel.asterisk.ami import Message
from hotline.kernel.wiring import Deps, Plugin


@dataclasses.dataclass(frozen=True)
class Acd:
    dispatcher: Dispatcher
    feed: PhoneFeed
    plugin: Plugin


def setup(
    deps: Deps,
    settings: AcdSettings,
    is_agent: Callable[[str], bool],
    start_callback: StartCallback,
    watch: AgentWatch,
) -> Acd:
    dispatcher = Dispatcher(
        Engine(settings), AcdStateStore(deps.redis), deps.outbox.publish, deps.clock, start_callback, watch
    )
    feed = PhoneFeed(dispatcher, is_agent)

    async def reconcile(channels: Sequence[Message]) -> None:
        await feed.reconcile(deps.ami, channels)

    plugin = Plugin(
        "acd",
        ami=[(name, feed.hear) for name in PHONE_EVENTS],
        tasks=[("acd", feed.run)],
        reconcile=[reconcile],
    )
    return Acd(dispatcher, feed, plugin)
