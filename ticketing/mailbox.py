"""The hotline's mailbox: an SMTP receiver (aiosmtpd) that turns each citizen's email into a ticket.

It accepts mail only for the hotline's own addresses, so it relays nothing.
A message is acknowledged (250) only after its ticket and files are in the
database and on disk; when that fails for a passing reason the sender is told
to try later (451) and its mail server does, so nothing accepted is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from ticketing.errors import TicketError

log = logging.getLogger(__name__)
TakeIn = Callable[[bytes], Awaitable[tuple[str, bool]]]
#: Larger mails are refused during DATA; the attachment store has its own limit per file.
MAX_MAIL_BYTES = 40 * 2**20


class MailboxHandler:
    """aiosmtpd's handler: RCPT is checked against our addresses, DATA becomes a ticket."""

    def __init__(self, addresses: Iterable[str], take_in: TakeIn) -> None:
        self.addresses = {address.lower() for address in addresses}
        self.take_in = take_in

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() not in self.addresses:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw).encode("utf-8", "surrogateescape")
        try:
            number, created = await self.take_in(raw)
        except TicketError as exc:
            log.warning("mail refused: %s", exc.error_id)
            return f"554 5.6.0 {exc.error_id}"
        except Exception:
            log.exception("mail not taken in; the sender is asked to try again")
            return "451 4.3.0 temporarily unable to take the message, try again later"
        log.info("mail became ticket %s", number, extra={"new_ticket": created})
        return f"250 2.0.0 ticket {number}"


class Mailbox:
    """The listening SMTP server inside the controller's event loop."""

    def __init__(self, host: str, port: int, handler: MailboxHandler, hostname: str = "hotline") -> None:
        self.host, self.port = host, port
        self.handler = handler
        self.hostname = hostname
        self._server: asyncio.Server | None = None

    def _protocol(self) -> Any:
        return SMTP(
            self.handler,
            hostname=self.hostname,
            data_size_limit=MAX_MAIL_BYTES,
            enable_SMTPUTF8=True,
            timeout=120,
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]  # the one chosen, when asked for port 0

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
