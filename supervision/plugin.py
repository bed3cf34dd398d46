"""Supervision wired from the core: listen, whisper and barge on a call (ChanSpy on the supervisor's
phone, followed through Asterisk's events), messages to agents, and the wallboard's page."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping

from hotline.acd.dispatch import Dispatcher
from hotline.acd.engine import AgentState
from hotline.kernel.asterisk.channels import LiveCall
from hotline.kernel.wiring import Deps, Plugin
from hotline.supervision.http import SUPERVISION_ROUTES, add_supervision
from hotline.supervision.log import MonitorLog
from hotline.supervision.messages import Messenger
from hotline.supervision.monitors import Monitors

#: The AMI events a monitor is followed by: its channel made, ChanSpy attached, a mode key, a hang-up.
MONITOR_EVENTS = ("Newchannel", "ChanSpyStart", "DTMFEnd", "Hangup")


@dataclasses.dataclass(frozen=True)
class Supervision:
    monitors: Monitors
    messenger: Messenger
    plugin: Plugin


def setup(deps: Deps, call: Callable[[str], LiveCall | None], dispatcher: Dispatcher) -> Supervision:
    monitors = Monitors(
        deps.ami, call, deps.settings.supervisors, deps.outbox.publish, MonitorLog(deps.engine)
    )
    messenger = Messenger(
        lambda: {a.account: a.state != AgentState.LOGGED_OUT for a in dispatcher.agents()},
        deps.outbox.publish,
        deps.outbox.publish_to_agent,
    )

    def hear(event: Mapping[str, object]) -> None:
        deps.outbox.put_all(monitors.hear(event))

    plugin = Plugin(
        "supervision",
        routes=SUPERVISION_ROUTES,
        app_keys=functools.partial(add_supervision, monitors=monitors, messenger=messenger),
        ami=[(name, hear) for name in MONITOR_EVENTS],
        stop=[("monitors ringing", monitors.close)],
    )
    return Supervision(monitors, messenger, plugin)
