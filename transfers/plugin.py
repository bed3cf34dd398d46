"""Transfers and conferences wired from the core: blind and attended transfers, three-way calls and the
110 linkage over AMI, followed through Asterisk's events; a caller handed back keeps their place."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence

from hotline.acd.dispatch import Dispatcher
from hotline.ivr.handback import Handback, Handbacks
from hotline.kernel.asterisk.ami import Message
from hotline.kernel.asterisk.live_calls import LiveCalls
from hotline.kernel.wiring import Deps, Plugin
from hotline.ticketing.service import TicketDesk
from hotline.transfers.control import CallControl
from hotline.transfers.http import CALL_ROUTES, add_calls
from hotline.trunks.dialling import OutboundGuard

#: The AMI events a consult is followed by.
CONSULT_EVENTS = ("AttendedTransfer", "UserEvent", "Hangup", "DialBegin", "DialEnd", "DTMFEnd")


@dataclasses.dataclass(frozen=True)
class Transfers:
    control: CallControl
    plugin: Plugin


def setup(
    deps: Deps,
    calls: LiveCalls,
    is_agent: Callable[[str], bool],
    outbound: OutboundGuard,
    handbacks: Handbacks,
    dispatcher: Dispatcher,
    desk: TicketDesk,
) -> Transfers:
    def reachable(handback: Handback) -> bool:
        return dispatcher.reachable(handback.agent, handback.skill)

    control = CallControl(
        deps.ami,
        lambda: calls.calls,  # a reconcile replaces the table
        is_agent,
        outbound,
        deps.outbox.publish,
        handbacks,
        reachable,
        desk.note_linkage,
        recordings_dir=deps.settings.recordings_dir,
    )

    def hear(event: Mapping[str, object]) -> None:
        deps.outbox.put_all(control.hear(event))

    def forget(_event: Mapping[str, object]) -> None:
        control.forget(calls.calls)

    async def reconciled(_channels: Sequence[Message]) -> None:
        control.forget(calls.calls)

    plugin = Plugin(
        "transfers",
        routes=CALL_ROUTES,
        app_keys=functools.partial(add_calls, control=control),
        ami=[(name, hear) for name in CONSULT_EVENTS],
        published=[("call.hangup", forget)],
        reconcile=[reconciled],
    )
    return Transfers(control, plugin)
