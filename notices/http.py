"""What went out, and what is still waiting: the outbox for supervisors, a ticket's notices beside it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotline.kernel.api.errors import invalid
from hotline.kernel.api.routes import MANAGERS, PLATFORM, ApiRequest, Route, one_of, whole, whole_number
from hotline.notices.outbox import FAILED, PENDING, SENT, Outbox
from hotline.ticketing.service import TicketDesk

OUTBOX_KEY = web.AppKey("notice_outbox", Outbox)
NOTICES_DESK_KEY = web.AppKey("notices_desk", TicketDesk)
STATES = (PENDING, SENT, FAILED)
LIMIT_MAX = 500


def _limit(call: ApiRequest) -> int:
    return whole_number("limit", call.request.query.get("limit"), 100, 1, LIMIT_MAX)


async def list_notices(call: ApiRequest) -> list[dict[str, Any]]:
    state = call.request.query.get("state")
    if state is not None and state not in STATES:
        raise invalid("state", "须为 " + "、".join(STATES))
    return await call.request.app[OUTBOX_KEY].listing(state=state, limit=_limit(call))


async def ticket_notices(call: ApiRequest) -> list[dict[str, Any]]:
    number = call.match("number")
    # the ticket exists and this person may see it
    await call.request.app[NOTICES_DESK_KEY].show(number, call.actor)
    return await call.request.app[OUTBOX_KEY].listing(ticket=number, limit=_limit(call))


NOTICE_ROUTES = [
    Route(
        "GET",
        "/api/notices",
        list_notices,
        MANAGERS,
        "通知发件箱: SMS and email notices, newest first; state pending (waiting or retrying), sent, failed",
        query={"state": one_of(STATES), "limit": whole(1, LIMIT_MAX)},
    ),
    Route(
        "GET",
        "/api/tickets/{number}/notices",
        ticket_notices,
        PLATFORM,
        "工单的通知: what the unit and the citizen were told about this ticket, and whether it went",
        query={"limit": whole(1, LIMIT_MAX)},
    ),
]


def add_notices(app: web.Application, outbox: Outbox, desk: TicketDesk) -> None:
    """What the notices' routes read: the outbox, and the desk that says who may see a ticket."""
    app[OUTBOX_KEY] = outbox
    app[NOTICES_DESK_KEY] = desk
