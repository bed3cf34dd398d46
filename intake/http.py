"""The gateways' route: a citizen's SMS or WeChat message, signed by its gateway, becomes a ticket.

The gateway signs instead of signing in (``intake.webhooks``): the route has
no bearer token, and the request's body is checked against its signature
before it is read.
"""

from __future__ import annotations

from aiohttp import web

from hotline.intake import webhooks
from hotline.intake.service import IntakeDesk
from hotline.kernel.api.identity import Actor, Role
from hotline.kernel.api.routes import PLATFORM, SAID, ApiRequest, Route, dumps, one_of
from hotline.ticketing.http import INTAKE_BODY, REPEAT, WHERE
from hotline.ticketing.workflow import INTAKE_LIMITS

INTAKE_KEY = web.AppKey("intake_desk", IntakeDesk)
WEBHOOK_SECRET_KEY = web.AppKey("webhook_secret", str)
GATEWAY = Actor("gateway", Role.AGENT)


def verify_gateway(request: web.Request, body: bytes) -> Actor:
    """An SMS or WeChat gateway's request: its HMAC over the path and the exact body, and a timestamp close
    to now."""
    webhooks.verify(
        request.app[WEBHOOK_SECRET_KEY],
        request.headers.get("X-Hotline-Timestamp", ""),
        request.headers.get("X-Hotline-Signature", ""),
        body,
        request.app[INTAKE_KEY].desk.clock().timestamp(),
        request.path,
    )
    return GATEWAY


async def receive_message(call: ApiRequest) -> web.Response:
    desk = call.request.app[INTAKE_KEY]
    receipt, created = await desk.take_in_message(call.match("channel"), call.body)
    return web.json_response(receipt, status=201 if created else 200, dumps=dumps)


#: A message's fields, described as a ticket's intake describes them.
_TICKET = INTAKE_BODY["properties"]
_MESSAGE_BODY = {
    "type": "object",
    "required": ["message_id", "text"],
    "properties": {
        "message_id": {"type": "string", "pattern": SAID, "maxLength": INTAKE_LIMITS["external_id"]},
        "text": _TICKET["description"],
        "phone": _TICKET["caller_phone"],
        "name": _TICKET["caller_name"],
        "type": _TICKET["type"],
        "category": _TICKET["category"],
        "region": _TICKET["region"],
        "address": _TICKET["address"],
        "confidential": {"type": "boolean"},
        "share_number": {"type": "boolean"},
        "attachments": _TICKET["attachments"],
    },
}

INTAKE_ROUTES = [
    Route(
        "POST",
        "/api/intake/{channel}",
        receive_message,
        PLATFORM,
        "a citizen's message from the SMS or WeChat gateway (channel sms|wechat), signed with "
        "X-Hotline-Timestamp and X-Hotline-Signature: sha256=HMAC(secret, timestamp.path.body); "
        "idempotent on message_id",
        _MESSAGE_BODY,
        status=201,
        signed_by=verify_gateway,
        path_params={"channel": one_of(("sms", "wechat"))},
        checked=WHERE,
        answers=REPEAT,
    ),
]


def add_intake(app: web.Application, desk: IntakeDesk, webhook_secret: str) -> None:
    """What the gateways' route reads: the intake desk, and the secret the gateways sign with."""
    app[INTAKE_KEY] = desk
    app[WEBHOOK_SECRET_KEY] = webhook_secret
