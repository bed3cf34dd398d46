"""Recordings wired from the core: the register files each call's recordings under its day and its ticket
when the call ends, answers the recordings' routes, and purges what its retention no longer keeps."""

from __future__ import annotations

import dataclasses
import functools
import logging
from datetime import timedelta, tzinfo

from hotline.kernel.runtime.outbox import Listener
from hotline.kernel.wiring import Deps, Plugin, Round
from hotline.recordings.http import RECORDING_ROUTES, add_recordings
from hotline.recordings.shelf import RecordingShelf
from hotline.speech.workers import VoskWorkers
from hotline.ticketing.service import TicketDesk

log = logging.getLogger(__name__)
#: The retention purge has all the time in the world.
PURGE_SECONDS = 3600.0


@dataclasses.dataclass(frozen=True)
class Recordings:
    shelf: RecordingShelf
    plugin: Plugin


def setup(deps: Deps, zone: tzinfo, desk: TicketDesk, scribe: VoskWorkers | None) -> Recordings:
    settings = deps.settings
    shelf = RecordingShelf(
        deps.engine,
        settings.host_path(settings.recordings_dir),
        deps.outbox.publish,
        zone=zone,
        tickets_of=desk.tickets_of_calls,
        scribe=scribe,
        confidential_tickets=desk.confidential_tickets,
        confidential_roles=desk.confidential_roles,
    )
    desk.on_call_linked = shelf.file_under

    async def purge() -> None:
        """Recordings past the policy's retention go, unless a ticket holds them."""
        purged = await shelf.purge(desk.policy.recording_retention, desk.held_calls)
        if purged:
            log.info("recordings purged at the end of their retention", extra={"count": len(purged)})

    call_ended: Listener = shelf.call_ended
    plugin = Plugin(
        "recordings",
        routes=RECORDING_ROUTES,
        app_keys=functools.partial(
            add_recordings,
            shelf=shelf,
            calls_of_ticket=desk.call_ids,
            agent_window=timedelta(days=settings.recording_agent_days),
        ),
        published=[("call.hangup", call_ended)],
        rounds=[Round(PURGE_SECONDS, purge, "recordings purge")],
        stop=[("recordings being entered", shelf.close)],
    )
    return Recordings(shelf, plugin)
