"""Carriers and numbers wired from the core: the one outbound allow-list every dialled leg passes, the
trunks' health from Asterisk's events, and the SIP edge that bans password guessers."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence

from hotline.kernel.wiring import Deps, Plugin
from hotline.trunks.acl import RenderBans
from hotline.trunks.carriers import Trunk
from hotline.trunks.dialling import DiallingPlan, OutboundGuard
from hotline.trunks.edge import SipEdge
from hotline.trunks.status import TrunkWatch

#: The dialplan's own check refused a number (asterisk-conf/extensions.conf).
OUTBOUND_REFUSED = "HotlineOutboundRefused"


@dataclasses.dataclass(frozen=True)
class Trunks:
    outbound: OutboundGuard
    plugin: Plugin


def setup(deps: Deps, trunks: Sequence[Trunk], dialling: DiallingPlan, render_bans: RenderBans) -> Trunks:
    outbound = OutboundGuard(dialling, deps.outbox.publish)
    watch = TrunkWatch(tuple(trunk.name for trunk in trunks))
    edge = SipEdge(
        deps.settings,
        [trunk.host for trunk in trunks],
        render_bans,
        deps.ami,
        deps.outbox.publish,
        deps.clock,
    )

    def trunk_news(event: Mapping[str, object]) -> None:
        news = watch.hear(event)
        if news is not None:
            deps.outbox.announce(news)

    def refused_by_dialplan(event: Mapping[str, object]) -> None:
        if event.get("UserEvent") == OUTBOUND_REFUSED:
            number = str(event.get("Number", ""))
            deps.outbox.put(
                functools.partial(outbound.report, number, "refused by the dialplan", where="dialplan")
            )

    plugin = Plugin(
        "trunks",
        ami=[("ContactStatus", trunk_news), ("UserEvent", trunk_news), ("UserEvent", refused_by_dialplan)],
        tasks=[("sip-guard", edge.guard.run), ("log-bound", edge.bound_log)],
    )
    return Trunks(outbound, plugin)
