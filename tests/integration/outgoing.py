"""What the notices' tests talk to: the deployment's SMTP relay (aiosmtpd), the SMS provider's gateway
(aiohttp) and a desk that files attachments in the test's folder. conftest.py offers the fixtures."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiosmtpd.smtp import SMTP, Envelope, Session

from hotline.intake.webhooks import verify
from hotline.notices.files import NoticeFiles
from hotline.notices.outbox import Outbox
from hotline.notices.rules import Medium
from hotline.notices.senders import MailSender, SmsGateway
from hotline.notices.service import Notices
from hotline.recordings.shelf import RecordingShelf
from hotline.ticketing.attachments import AttachmentStore
from hotline.ticketing.policy import load_policy
from hotline.ticketing.service import TicketDesk
from tests.unit.ticketing.desk import Clock

HOTLINE = "12345@hotline.local"
UNIT_MOBILE = "13900001111"
GATEWAY_SECRET = "gateway-test-secret"
ON_DUTY = ("zhiban@hotline.local",)
ZONE = ZoneInfo("Asia/Shanghai")


class Relay:
    """The deployment's SMTP relay, played by aiosmtpd: it keeps what it is given, and can be down."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()  # addresses it has no mailbox for
        self.port = port
        if not port:  # one the kernel picks now, kept across down() and up()
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        self._server = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    async def up(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self, hostname="relay"), "127.0.0.1", self.port)

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


class Gateway:
    """The SMS provider's HTTP API: checks each request's signature and keeps the messages."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.refuse: set[str] = set()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = request.headers
        verify(
            GATEWAY_SECRET,
            headers["X-Hotline-Timestamp"],
            headers["X-Hotline-Signature"],
            body,
            time.time(),
            request.path,
        )
        message = json.loads(body)
        if message["to"] in self.refuse:
            return web.json_response({"error": "invalid number"}, status=400)
        self.messages.append(message)
        return web.json_response({"ok": True})


@pytest.fixture
async def filing_desk(engine, tmp_path: Path) -> TicketDesk:
    """A Zhijiang desk whose files go to the test's folder, and whose 马家店 unit has a mobile."""
    desk = TicketDesk(
        engine, load_policy("zhijiang"), clock=Clock(), attachments=AttachmentStore(tmp_path / "f")
    )
    await desk.start()
    await desk.directory.update_unit("cgj.majiadian", {"phone": UNIT_MOBILE})
    return desk


def shelf_of(desk: TicketDesk) -> RecordingShelf:
    """The recordings' register beside the desk, as the controller wires them."""
    shelf = RecordingShelf(desk.store.engine, desk.attachments.root.parent / "recordings", zone=ZONE)
    desk.on_call_linked = shelf.file_under
    return shelf


@pytest.fixture
async def relay():
    relay = Relay()
    await relay.up()
    yield relay
    await relay.down()


@pytest.fixture
async def gateway():
    gateway = Gateway()
    app = web.Application()
    app.router.add_post("/sms", gateway.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    gateway.url = str(server.make_url("/sms"))
    yield gateway
    await server.close()


class Time:
    """The notices' own clock, moved by the test past a retry's wait."""

    def __init__(self, desk: TicketDesk) -> None:
        self.now = desk.clock()

    def __call__(self):
        return self.now


@pytest.fixture
def notices(engine, filing_desk: TicketDesk, relay: Relay, gateway: Gateway) -> Notices:
    desk = filing_desk

    async def unit_phones() -> dict[str, str]:
        return {unit["code"]: unit["phone"] for unit in await desk.directory.units()}

    senders = {
        Medium.EMAIL: MailSender(
            f"127.0.0.1:{relay.port}", HOTLINE, NoticeFiles(desk.attachments, shelf_of(desk))
        ),
        Medium.SMS: SmsGateway(gateway.url, GATEWAY_SECRET),
    }
    return Notices(
        Outbox(engine),
        desk.store.events_after,
        desk.store.get,
        unit_phones,
        senders,
        ON_DUTY,
        clock=Time(desk),
        first_retry=60,
    )
