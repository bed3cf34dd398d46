"""Tickets wired from the core: the desk (every channel's intake lands here), its routes, its sweep of
deadlines and the directory taught to the word guesser at start."""

from __future__ import annotations

import dataclasses
import functools
import logging

from hotline.kernel.wiring import Deps, Plugin, Round
from hotline.ticketing.attachments import AttachmentStore
from hotline.ticketing.guesses import Keywords
from hotline.ticketing.http import TICKET_ROUTES, add_ticket_desk
from hotline.ticketing.policy import Policy
from hotline.ticketing.service import TicketDesk

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Ticketing:
    desk: TicketDesk
    plugin: Plugin


def setup(deps: Deps, policy: Policy, keywords: Keywords) -> Ticketing:
    settings = deps.settings
    attachments = AttachmentStore(settings.home / "attachments", settings.attachment_max_mb * 2**20)
    desk = TicketDesk(deps.engine, policy, attachments=attachments, keywords=keywords)

    async def sweep() -> None:
        for action in await desk.sweep():
            log.info("ticket %s: %s (%s)", action.number, action.command, action.reason)

    plugin = Plugin(
        "ticketing",
        routes=TICKET_ROUTES,
        app_keys=functools.partial(add_ticket_desk, desk=desk, platform_id=settings.platform_id),
        start=[desk.start],
        rounds=[Round(settings.ticket_sweep_seconds, sweep, "ticket sweep")],
        # every channel's intake (and the draft) guesses from the words: the directory taught to jieba now
        tasks=[("guesses-warm-up", desk.warm_guesses)],
    )
    return Ticketing(desk, plugin)
