"""The hotline's mailbox: an SMTP receiver (aiosmtpd) that turns each citizen's email into a ticket.

It accepts mail only for the hotline's own addresses, so it relays nothing.
A message is acknowledged (250) only after its ticket and files are in the
database and on disk; when that fails for a passing reason the sender is told
to try later (451) and its mail server does, so nothing accepted is lost.

Anyone on the network can reach it, so what one client may ask is bounded: a
mail's size (552 while it streams in), the sessions open at once (421: try
later), the mails one sender has taken in a day (550), and what reading a mail
may cost (``ticketing.mail_intake``: 552 or 554). A refusal of the mail itself
is permanent (5xx): the same bytes would be refused again. Mails are read one
at a time, off the event loop. The log tells each mail's outcome, never an
address (aiosmtpd's own log of every command is silenced).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP, Envelope, Session, TLSSetupException

from ticketing.errors import TicketError
from ticketing.mail_intake import MailRefused, sender_of

log = logging.getLogger(__name__)
# aiosmtpd logs each command at INFO with the client's addresses, and a port check as a session.
logging.getLogger("mail.log").setLevel(logging.WARNING)
TakeIn = Callable[[bytes], Awaitable[tuple[str, bool]]]
#: What the greeting says after the host name: no software, no version.
IDENT = "ESMTP"
IDLE_SECONDS = 120
#: Mails taken in from one sender (the From address) within a day; more are refused until the day has
#: passed since the oldest of them.
MAILS_PER_SENDER = 20
SENDER_WINDOW = 86400.0
#: Senders remembered before the ones without a mail in the window are forgotten.
SENDERS_KEPT = 4096


@dataclass(frozen=True)
class MailLimits:
    """What the receiver takes at once: the size of one mail (the parser holds about eight times that
    while it reads) and the sessions open together."""

    max_bytes: int = 25 * 2**20
    sessions: int = 8


class SenderQuota:
    """At most ``limit`` mails from one sender within ``window`` seconds, in this process's memory (a
    restart forgets: the acknowledgements have a durable bound of their own, ``notices.service``)."""

    def __init__(
        self,
        limit: int = MAILS_PER_SENDER,
        window: float = SENDER_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._taken: dict[str, deque[float]] = {}

    def admit(self, sender: str) -> bool:
        """Whether one more mail from ``sender`` is taken; counted when it is."""
        now = self.clock()
        if len(self._taken) > SENDERS_KEPT:
            self._taken = {key: times for key, times in self._taken.items() if times[-1] > now - self.window}
        times = self._taken.setdefault(sender, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True


class MailboxHandler:
    """aiosmtpd's handler: RCPT is checked against our addresses, DATA becomes a ticket."""

    def __init__(self, addresses: Iterable[str], take_in: TakeIn, quota: SenderQuota | None = None) -> None:
        self.addresses = {address.lower() for address in addresses}
        self.take_in = take_in
        self.quota = quota or SenderQuota()
        self._reading = asyncio.Semaphore(1)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() not in self.addresses:
            log.info("mail refused: 550 not one of the hotline's addresses")
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw).encode("utf-8", "surrogateescape")
        try:
            sender = await asyncio.to_thread(sender_of, raw) or (envelope.mail_from or "").lower()
            if not self.quota.admit(sender):
                log.info("mail refused: 550 its sender sent %d within a day", self.quota.limit)
                return "550 5.7.1 too many mails from this sender within a day; call 12345 instead"
            async with self._reading:
                number, created = await self.take_in(raw)
        except MailRefused as exc:
            code = "552 5.3.4" if exc.too_big else "554 5.6.0"
            log.info("mail refused: %s %s", code[:3], exc.error_id)
            return f"{code} {exc.error_id}"
        except TicketError as exc:
            log.info("mail refused: 554 %s", exc.error_id)
            return f"554 5.6.0 {exc.error_id}"
        except Exception:
            log.exception("mail not taken in; the sender is asked to try again")
            return "451 4.3.0 temporarily unable to take the message, try again later"
        log.info("mail taken in as ticket %s (%s)", number, "new" if created else "sent again")
        return f"250 2.0.0 ticket {number}"

    async def handle_exception(self, error: Exception) -> str:
        """A session that failed outside the reading of a mail: logged without the client's address and
        answered without the library's words (aiosmtpd's own answer names the exception)."""
        if isinstance(error, TLSSetupException):
            log.info("mail session ended: its TLS handshake failed")
        else:
            log.error("mail session failed", exc_info=error)
        return "451 4.3.0 local error, try again later"


class _Session(SMTP):
    """aiosmtpd's session, telling the mailbox once when its connection is gone."""

    def __init__(self, ended: Callable[[], None], *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._ended: Callable[[], None] | None = ended

    async def push(self, status: str | bytes) -> None:
        if isinstance(status, str) and status.startswith("552 Error"):  # aiosmtpd's own: the mail outgrew
            log.info("mail refused: 552 longer than %d bytes", self.data_size_limit)
        await super().push(status)

    def connection_lost(self, error: Exception | None) -> None:
        try:
            super().connection_lost(error)
        finally:
            if self._ended is not None:
                self._ended()
                self._ended = None


class _Busy(asyncio.Protocol):
    """A client over the sessions' bound: told to come back (RFC 5321's 421), and let go."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(b"421 4.3.2 too many connections, try again later\r\n")
        transport.close()


class Mailbox:
    """The listening SMTP server inside the controller's event loop."""

    def __init__(
        self,
        host: str,
        port: int,
        handler: MailboxHandler,
        hostname: str = "hotline",
        *,
        tls: ssl.SSLContext | None = None,
        limits: MailLimits = MailLimits(),
    ) -> None:
        self.host, self.port = host, port
        self.handler = handler
        self.hostname = hostname
        self.tls = tls
        self.limits = limits
        self.sessions = 0
        self._server: asyncio.Server | None = None

    def _protocol(self) -> asyncio.Protocol:
        if self.sessions >= self.limits.sessions:
            log.info("mail session refused: 421 all %d sessions are open", self.limits.sessions)
            return _Busy()
        self.sessions += 1
        return _Session(
            self._session_ended,
            self.handler,
            hostname=self.hostname,
            ident=IDENT,
            data_size_limit=self.limits.max_bytes,
            enable_SMTPUTF8=True,
            timeout=IDLE_SECONDS,
            tls_context=self.tls,
        )

    def _session_ended(self) -> None:
        self.sessions -= 1

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]  # the one chosen, when asked for port 0

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
