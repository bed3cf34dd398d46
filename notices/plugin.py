"""Notices wired from the core: SMS and email to units and citizens, made from the tickets' events and
sent through the notices' outbox in rounds; the morning digest of the night's messages."""

from __future__ import annotations

import functools
from datetime import time, tzinfo

from hotline.kernel.wiring import Deps, Plugin, Round
from hotline.notices.files import NoticeFiles
from hotline.notices.http import NOTICE_ROUTES, add_notices
from hotline.notices.outbox import Outbox
from hotline.notices.senders import senders_of
from hotline.notices.service import Digest, Notices
from hotline.recordings.shelf import RecordingShelf
from hotline.ticketing.service import TicketDesk

#: Notices follow the tickets within seconds.
ROUND_SECONDS = 2.0


def setup(deps: Deps, desk: TicketDesk, recordings: RecordingShelf, digest_at: time, zone: tzinfo) -> Plugin:
    settings = deps.settings
    outbox = Outbox(deps.engine)
    notices = Notices(
        outbox,
        desk.store.events_after,
        desk.store.get,
        desk.unit_phones,
        senders_of(settings, NoticeFiles(desk.attachments, recordings)),
        settings.on_duty_mailboxes,
        Digest(digest_at, zone, desk.night_tickets),
    )

    async def start() -> None:
        await notices.start(await desk.store.last_event_id())

    return Plugin(
        "notices",
        routes=NOTICE_ROUTES,
        app_keys=functools.partial(add_notices, outbox=outbox, desk=desk),
        start=[start],
        rounds=[Round(ROUND_SECONDS, notices.round, "notices")],
    )
