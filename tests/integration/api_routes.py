"""The ticket API as the composition root registers it (``Controller.install``), with the routes of the
other capabilities a test serves beside it: one registry, one authentication, one OpenAPI description."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from hotline.controller import API_TITLE
from hotline.kernel.api.routes import Route, add_routes
from hotline.kernel.api.users import Users
from hotline.ticketing.http import TICKET_ROUTES, add_ticket_desk
from hotline.ticketing.service import TicketDesk


def add_api(app: web.Application, desk: TicketDesk, users: Users, extra_routes: Sequence[Route] = ()) -> None:
    add_ticket_desk(app, desk)
    add_routes(app, users, [*TICKET_ROUTES, *extra_routes], API_TITLE, desk.policy.timezone)
