"""The two ways out: email through the deployment's SMTP relay, SMS through its provider's HTTP gateway.

A sender raises ``Undeliverable`` when retrying cannot help (the relay refuses
the address, the gateway refuses the request) and any other exception when it
might (the relay or the gateway is away). Each message carries the notice's
key (the email's Message-ID, the SMS request's ``id``), so a resend after a
crash between sending and recording is recognisable as the same message.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import mimetypes
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol

import aiohttp
import aiosmtplib
from yarl import URL

from hotline.intake.webhooks import sign
from hotline.kernel.runtime.config import Settings
from hotline.notices.rules import Medium, Notice

SMTP_TIMEOUT = 30.0
GATEWAY_TIMEOUT = 15.0


#: Where a notice's file lies, by its SHA-256 (``FileNotFoundError`` when it is gone).
FindFile = Callable[[str, str], Awaitable[Path]]


class Undeliverable(Exception):
    """The message can never go as it is; the notice is marked failed, with this reason."""


class Sender(Protocol):
    async def send(self, notice: Notice) -> None: ...


class MailSender:
    """Email through an SMTP relay (STARTTLS when the relay offers it; login when a user is set)."""

    def __init__(
        self,
        relay: str,
        sender: str,
        files: FindFile,
        username: str = "",
        password: str = "",
    ) -> None:
        host, _, port = relay.rpartition(":") if ":" in relay else (relay, "", "25")
        self.host, self.port = host, int(port)
        self.sender = sender
        self.files = files  # (sha256, recipient) -> the file's path
        self.username, self.password = username, password

    def message(self, notice: Notice, paths: list[Path]) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = notice.recipient
        message["Subject"] = notice.subject
        message["Date"] = formatdate(localtime=True)
        digest = hashlib.sha256(notice.key.encode()).hexdigest()[:32]
        message["Message-ID"] = f"<notice-{digest}@{self.sender.partition('@')[2] or 'hotline'}>"
        message.set_content(notice.body)
        for file, path in zip(notice.files, paths, strict=True):
            kind = mimetypes.guess_type(file["name"])[0] or "application/octet-stream"
            maintype, _, subtype = kind.partition("/")
            content = path.read_bytes()
            message.add_attachment(content, maintype=maintype, subtype=subtype, filename=file["name"])
        return message

    async def send(self, notice: Notice) -> None:
        try:
            paths = [await self.files(file["sha256"], notice.recipient) for file in notice.files]
            message = await asyncio.to_thread(self.message, notice, paths)  # reads the attached files
        except FileNotFoundError as exc:  # the ticket's file is gone: no retry brings it back
            raise Undeliverable(f"attachment missing: {Path(str(exc.filename)).name}") from None
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username or None,
                password=self.password or None,
                timeout=SMTP_TIMEOUT,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise Undeliverable(f"relay refused {notice.recipient}: {exc}") from None
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise Undeliverable(f"relay said {exc.code} {exc.message}") from None
            raise


class SmsGateway:
    """SMS through the provider's HTTP API: a signed JSON POST ``{"id", "to", "text"}``.

    The signature is the one the inbound gateways use (``intake.webhooks``):
    ``X-Hotline-Signature: sha256=HMAC(secret, "{timestamp}.{path}.{body}")``, the path the URL's.
    """

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret

    async def send(self, notice: Notice) -> None:
        body = json.dumps(
            {"id": notice.key, "to": notice.recipient, "text": notice.body}, ensure_ascii=False
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Hotline-Timestamp": timestamp,
            "X-Hotline-Signature": sign(self.secret, timestamp, body, URL(self.url).path),
        }
        timeout = aiohttp.ClientTimeout(total=GATEWAY_TIMEOUT)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            if response.status < 300:
                return
            reason = f"gateway said {response.status}: {(await response.text())[:200]}"
            if 400 <= response.status < 500 and response.status not in (408, 429):
                raise Undeliverable(reason)
            raise ConnectionError(reason)


def senders_of(settings: Settings, files: FindFile) -> dict[Medium, Sender]:
    """The media the deployment configured: email through its relay, SMS through its gateway."""
    senders: dict[Medium, Sender] = {}
    if settings.mail_relay:
        senders[Medium.EMAIL] = MailSender(
            settings.mail_relay,
            settings.mail_addresses[0],
            files,
            settings.mail_relay_user,
            settings.mail_relay_password,
        )
    if settings.sms_gateway_url:
        senders[Medium.SMS] = SmsGateway(settings.sms_gateway_url, settings.sms_gateway_secret)
    return senders
