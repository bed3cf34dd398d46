"""The mailbox as anyone on the network meets it: the hostile mails of issue 29, each refused for good
within a stated bound while the API on the same event loop keeps answering; STARTTLS; a log without
addresses; a Message-ID nobody can take from another sender; a bound on sessions."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import aiosmtpd
import aiosmtplib
import pytest
from aiohttp import web

from hotline.intake.mail_intake import MAX_FILES
from hotline.intake.mail_reader import MailReader
from hotline.intake.mail_tls import CERTIFICATE, FOLDER, KEY, server_tls
from hotline.intake.mailbox import Mailbox, MailboxHandler, MailLimits
from hotline.intake.service import IntakeDesk
from hotline.kernel.api.identity import Actor, Role
from hotline.ticketing.service import TicketDesk
from hotline.ticketing.store import TicketFilter
from tests.integration.outgoing import HOTLINE
from tests.unit.intake.mails import forwarded, many_parts, nested, punycode_subject

AGENT = Actor("agent1", Role.AGENT)
#: Each hostile mail is answered within this; a mail that takes longer has hung the receiver.
REFUSED_WITHIN = 5.0
#: The API's answers meanwhile (normally a few milliseconds); one slower than this waited on the mail.
ANSWERED_WITHIN = 1.0
SIZE_LIMIT = MailLimits().max_bytes


@pytest.fixture
async def mailbox(filing_desk: TicketDesk, tmp_path: Path) -> AsyncIterator[Mailbox]:
    """The receiver as the controller runs it: STARTTLS with a certificate made for it, and mails read in a
    process of their own."""
    reader = MailReader()
    intake = IntakeDesk(filing_desk, reader.read)
    tls = server_tls("", "", tmp_path / "home", "hotline.local")
    box = Mailbox("127.0.0.1", 0, MailboxHandler([HOTLINE], intake.take_in_email), tls=tls)
    await box.start()
    yield box
    await box.close()
    await reader.close()


#: A client of its own: stdlib smtplib in another process, so the event loop (and the interpreter) the test
#: watches does the receiver's work alone; it does not announce the mail's size (a hostile client does not).
CLIENT = """
import smtplib, sys
port, sender, recipient, path, source = int(sys.argv[1]), *sys.argv[2:6]
server = smtplib.SMTP("127.0.0.1", port, timeout=60, source_address=(source, 0))
with open(path, "rb") as mail, server as client:
    client.ehlo()
    client.mail(sender)
    client.rcpt(recipient)
    print(client.data(mail.read())[0])
"""


async def send_from_another_process(
    box: Mailbox, raw: bytes, sender: str = "citizen@example.cn", client_address: str = "127.0.0.1"
) -> int:
    """The SMTP code of the answer to the mail's DATA, sent from ``client_address``."""
    with tempfile.NamedTemporaryFile(suffix=".eml") as mail:
        await asyncio.to_thread(mail.write, raw)
        mail.flush()
        client = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CLIENT,
            str(box.port),
            sender,
            HOTLINE,
            mail.name,
            client_address,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            answer, _ = await client.communicate()
        finally:
            if client.returncode is None:  # the bound ran out: the test stops its client
                client.kill()
                await client.wait()
    return int(answer)


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


class Api:
    """An API on the receiver's event loop, as the controller's is, asked again and again by a client of
    its own thread: the slowest answer is what a user of the API saw meanwhile."""

    def __init__(self) -> None:
        self.slowest = 0.0
        self.answers = 0
        self._stop = False

    @contextlib.asynccontextmanager
    async def serve(self) -> AsyncIterator[None]:
        app = web.Application()
        app.router.add_get("/healthz", healthz)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        asking = asyncio.create_task(asyncio.to_thread(self._ask, f"http://127.0.0.1:{port}/healthz"))
        try:
            yield
        finally:
            self._stop = True
            await asking
            await runner.cleanup()

    def _ask(self, url: str) -> None:
        async def ask() -> None:
            async with aiohttp.ClientSession() as session:
                while not self._stop:
                    started = time.monotonic()
                    async with session.get(url) as response:
                        assert response.status == 200
                    self.slowest = max(self.slowest, time.monotonic() - started)
                    self.answers += 1
                    await asyncio.sleep(0.02)

        asyncio.run(ask())


def headed(head: str, body: bytes) -> bytes:
    return f"From: a@example.cn\r\nTo: {HOTLINE}\r\nMessage-ID: <m@example.cn>\r\n{head}\r\n".encode() + body


HOSTILE = {
    "punycode body, 270 KB": (
        headed(
            "Content-Type: text/plain; charset=punycode\r\nContent-Transfer-Encoding: base64\r\n",
            base64.encodebytes(b"a-" + b"9" * 270_000).replace(b"\n", b"\r\n"),
        ),
        554,
    ),
    "punycode subject": (headed(punycode_subject(), b"x"), 554),
    "unicode_escape body": (
        headed("Content-Type: text/plain; charset=unicode_escape\r\n", b"\\x00\\x07"),
        554,
    ),
    "2,000 multiparts deep": (nested(2000), 552),
    "2,000 forwards deep": (forwarded(2000), 552),
    # lines ended by a bare CR, the header folded with CRLF (SMTP's lines are kept under 1,000 bytes)
    "60 multiparts deep, CR line ends": (nested(60, "\r", "\r\n "), 552),
    "300 multiparts deep, folded over blank lines": (nested(300, "\r\n", "\r\n \r\n\t\r\n "), 552),
    "2,000 parts": (many_parts(2000, "inline"), 552),
    "one file too many": (many_parts(MAX_FILES + 1, "attachment; filename=f{n}.pdf"), 552),
    "over the size limit": (headed("", (b"x" * 76 + b"\r\n") * (SIZE_LIMIT // 78 + 1)), 552),
}


@pytest.mark.parametrize("name", HOSTILE)
async def test_each_hostile_mail_is_refused_for_good_within_the_bound_while_the_api_answers(
    mailbox: Mailbox, filing_desk: TicketDesk, name: str
) -> None:
    raw, code = HOSTILE[name]
    api = Api()
    async with api.serve():
        answered = await asyncio.wait_for(send_from_another_process(mailbox, raw), REFUSED_WITHIN)
        await asyncio.sleep(0.1)  # the API is asked after the mail too
    assert answered == code  # permanent (5xx): the sender's server does not try again
    assert api.answers > 0 and api.slowest < ANSWERED_WITHIN
    assert await filing_desk.list(AGENT, TicketFilter()) == []


async def test_four_mails_of_38_mb_at_once_are_refused_as_they_stream_while_the_api_answers(
    mailbox: Mailbox, filing_desk: TicketDesk
) -> None:
    """Four at once took 1.27 GB of the controller's memory and /healthz up to a second."""
    raw = headed("", (b"y" * 76 + b"\r\n") * (38 * 2**20 // 78))
    api = Api()
    async with api.serve():
        # four servers (one client holds at most two sessions)
        sends = [
            send_from_another_process(mailbox, raw, f"c{n}@example.cn", f"127.0.0.{n + 1}") for n in range(4)
        ]
        answered = await asyncio.wait_for(asyncio.gather(*sends), 4 * REFUSED_WITHIN)
    assert answered == [552] * 4
    assert api.answers > 0 and api.slowest < ANSWERED_WITHIN
    assert await filing_desk.list(AGENT, TicketFilter()) == []


async def test_starttls_is_offered_with_the_deployments_certificate_and_the_greeting_names_no_software(
    mailbox: Mailbox, filing_desk: TicketDesk, tmp_path: Path
) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=mailbox.port, start_tls=False, validate_certs=False)
    await client.connect()
    try:
        await client.ehlo()
        assert client.supports_extension("starttls")
        await client.starttls()
        assert client.get_transport_info("sslcontext") is not None
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "c@example.cn", HOTLINE, "加密"
        message.set_content("经 TLS 送达")
        _, reply = await client.send_message(message)
    finally:
        await client.quit()
    ticket = await filing_desk.show(reply.split()[-1], AGENT)
    assert ticket["intake"]["description"] == "【主题】加密\n\n经 TLS 送达"
    folder = tmp_path / "home" / FOLDER
    assert (folder.stat().st_mode & 0o777, (folder / KEY).stat().st_mode & 0o777) == (0o700, 0o600)
    made = (folder / CERTIFICATE).read_bytes()
    server_tls("", "", tmp_path / "home", "hotline.local")  # the next start uses the same one
    assert (folder / CERTIFICATE).read_bytes() == made


async def test_the_greeting_names_neither_the_library_nor_its_version(mailbox: Mailbox) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", mailbox.port)
    greeting = (await reader.readline()).decode()
    writer.close()
    assert greeting.startswith("220 ") and "ESMTP" in greeting
    assert aiosmtpd.__version__ not in greeting and "Python" not in greeting


async def test_the_log_tells_each_mails_outcome_and_never_an_address(
    mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    reader, writer = await asyncio.open_connection("127.0.0.1", mailbox.port)  # the lab's port check
    await reader.readline()
    writer.close()
    await asyncio.sleep(0.1)
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "王五 <wangwu@example.cn>", HOTLINE, "路灯"
    message.set_content("路灯不亮")
    _, reply = await aiosmtplib.send(
        message,
        sender="wangwu@example.cn",
        recipients=[HOTLINE],
        hostname="127.0.0.1",
        port=mailbox.port,
        validate_certs=False,  # self-signed, as a delivering mail server accepts it (RFC 3207)
    )
    with pytest.raises(aiosmtplib.SMTPDataError):
        await send_hostile(mailbox)
    outcomes = [r.getMessage() for r in caplog.records if r.name == "hotline.intake.mailbox"]
    assert outcomes == [
        f"mail taken in as ticket {reply.split()[-1]} (new)",
        "mail refused: 552 mail-too-nested",
    ]
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert not any("wangwu" in line or HOTLINE in line for line in logged)


async def send_hostile(box: Mailbox) -> None:
    await aiosmtplib.send(
        nested(2000),
        sender="wangwu@example.cn",
        recipients=[HOTLINE],
        hostname="127.0.0.1",
        port=box.port,
        validate_certs=False,
    )


def mail_with_file(sender: str, file_name: str, content: bytes) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, HOTLINE, "发票"
    message["Message-ID"] = "<invoice-2026@example.cn>"
    message.set_content("附发票。")
    message.add_attachment(content, maintype="application", subtype="pdf", filename=file_name)
    return message


async def test_a_strangers_mail_with_a_citizens_message_id_makes_a_ticket_of_its_own(
    mailbox: Mailbox, filing_desk: TicketDesk
) -> None:
    async def send(message: EmailMessage) -> str:
        _, reply = await aiosmtplib.send(
            message, hostname="127.0.0.1", port=mailbox.port, validate_certs=False
        )
        return reply.split()[-1]

    citizen = await send(mail_with_file("citizen@example.cn", "发票.pdf", b"%PDF-citizen"))
    stranger = await send(mail_with_file("stranger@example.org", "假发票.pdf", b"%PDF-stranger"))
    again = await send(mail_with_file("citizen@example.cn", "发票.pdf", b"%PDF-citizen"))
    assert stranger != citizen and again == citizen
    files = {
        n: [f["name"] for f in (await filing_desk.show(n, AGENT))["attachments"]] for n in (citizen, stranger)
    }
    assert files == {citizen: ["发票.pdf"], stranger: ["假发票.pdf"]}


async def test_a_client_past_the_sessions_bound_is_told_to_come_back_later(
    filing_desk: TicketDesk,
) -> None:
    box = Mailbox(
        "127.0.0.1",
        0,
        MailboxHandler([HOTLINE], IntakeDesk(filing_desk).take_in_email),
        limits=MailLimits(sessions=2),
    )
    await box.start()
    held = [aiosmtplib.SMTP(hostname="127.0.0.1", port=box.port, start_tls=False) for _ in range(2)]
    try:
        for client in held:
            await client.connect()
        with pytest.raises(aiosmtplib.SMTPConnectResponseError) as busy:
            await aiosmtplib.SMTP(hostname="127.0.0.1", port=box.port, start_tls=False).connect()
        assert busy.value.code == 421  # temporary: the sending server tries again later
        await held.pop().quit()
        await asyncio.sleep(0.1)
        _, reply = await aiosmtplib.send(
            b"From: c@example.cn\r\n\r\nhi",
            sender="c@example.cn",
            recipients=[HOTLINE],
            hostname="127.0.0.1",
            port=box.port,
        )
        assert "ticket" in reply
    finally:
        for client in held:
            await client.quit()
        await box.close()
