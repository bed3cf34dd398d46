"""The hotline's mailbox: an SMTP receiver (aiosmtpd) that turns each citizen's email into a ticket.

It accepts mail only for the hotline's own addresses, so it relays nothing.
A message is acknowledged (250) only after its ticket and files are in the
database and on disk; when that fails for a passing reason the sender is told
to try later (451) and its mail server does, so nothing accepted is lost.

Anyone on the network can reach it, so what one client may ask is bounded: a
mail's size (552 while it streams in), the sessions open at once (421: try
later; at most two of them one client's), the mails taken in from one sender in
a day (550), and what reading a mail may cost (``intake.mail_intake``: 552
or 554). A refusal of the mail itself is permanent (5xx): the same bytes would
be refused again. Mails are read one at a time, off the event loop. The log
tells each mail's outcome, never an address (aiosmtpd's own log of every
command is silenced).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP, Envelope, Session, TLSSetupException

from hotline.intake.mail_intake import MailRefused, sender_of
from hotline.intake.mail_tls import server_tls
from hotline.kernel.runtime.config import Settings
from hotline.ticketing.errors import TicketError

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
#: Senders remembered at most; past it the one whose last mail is oldest is forgotten.
SENDERS_KEPT = 4096


@dataclass(frozen=True)
class MailLimits:
    """What the receiver takes at once: the size of one mail (the parser holds about eight times that
    while it reads), the sessions open together and those of one client address (so a client holding its
    sessions idle leaves the others' open)."""

    max_bytes: int = 25 * 2**20
    sessions: int = 8
    sessions_per_client: int = 2


class SenderQuota:
    """At most ``limit`` mails taken in from one sender within ``window`` seconds, in this process's memory
    (a restart forgets: the acknowledgements have a durable bound of their own, ``notices.service``).

    Only a mail that made a ticket counts: a retry after 451 or a resend of one already taken in does not.
    The senders are kept in the order of their last mail, so those gone quiet are forgotten from the front
    and the table never holds more than ``kept``."""

    def __init__(
        self,
        limit: int = MAILS_PER_SENDER,
        window: float = SENDER_WINDOW,
        clock: Callable[[], float] = time.monotonic,
        kept: int = SENDERS_KEPT,
    ) -> None:
        self.limit, self.window, self.clock, self.kept = limit, window, clock, kept
        self._taken: OrderedDict[str, deque[float]] = OrderedDict()

    def allows(self, sender: str) -> bool:
        """Whether one more mail from ``sender`` may be taken in."""
        times = self._taken.get(sender)
        if times is None:
            return True
        since = self.clock() - self.window
        while times and times[0] <= since:
            times.popleft()
        return len(times) < self.limit

    def count(self, sender: str) -> None:
        """One more mail from ``sender`` taken in."""
        now = self.clock()
        times = self._taken.pop(sender, None) or deque()
        times.append(now)
        self._taken[sender] = times  # now the most recent
        while self._taken and (
            len(self._taken) > self.kept or next(iter(self._taken.values()))[-1] <= now - self.window
        ):
            self._taken.popitem(last=False)


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
            async with self._reading:  # checked and counted together: one sender's sessions cannot overtake
                if not self.quota.allows(sender):
                    log.info("mail refused: 550 its sender sent %d within a day", self.quota.limit)
                    return "550 5.7.1 too many mails from this sender within a day; call 12345 instead"
                number, created = await self.take_in(raw)
                if created:
                    self.quota.count(sender)
        except MailRefused as exc:
            code = "552 5.3.4" if exc.too_big else "554 5.6.0"
            if exc.cause:  # the parser failed on it: worth a look, the bytes are not kept
                log.warning("mail refused: %s %s (%s)", code[:3], exc.error_id, exc.cause)
            else:
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
    """aiosmtpd's session, which asks the mailbox whether its client may open one more and tells it once
    when its connection is gone."""

    def __init__(
        self,
        arrived: Callable[[str], bool],
        ended: Callable[[str], None],
        *args: object,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._arrived = arrived
        self._ended: Callable[[str], None] | None = ended
        self._client = ""
        self._admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None  # STARTTLS calls it again for the same client
        super().connection_made(transport)
        if first:
            peer = transport.get_extra_info("peername")
            self._client = str(peer[0]) if isinstance(peer, tuple) and peer else ""
            self._admitted = self._arrived(self._client)

    async def _handle_client(self) -> None:
        """Before the greeting: a client over its share of the sessions is told to come back (421)."""
        if not self._admitted:
            await self.push("421 4.3.2 too many connections from your address, try again later")
            assert self.transport is not None
            self.transport.close()
            return
        await super()._handle_client()

    async def push(self, status: str | bytes) -> None:
        if isinstance(status, str) and status.startswith("552 Error"):  # aiosmtpd's own: the mail outgrew
            log.info("mail refused: 552 longer than %d bytes", self.data_size_limit)
        await super().push(status)

    def connection_lost(self, error: Exception | None) -> None:
        try:
            super().connection_lost(error)
        finally:
            if self._ended is not None:
                self._ended(self._client)
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
        self._clients: Counter[str] = Counter()  # sessions open by client address
        self._server: asyncio.Server | None = None

    def _protocol(self) -> asyncio.Protocol:
        if self.sessions >= self.limits.sessions:
            log.info("mail session refused: 421 all %d sessions are open", self.limits.sessions)
            return _Busy()
        self.sessions += 1
        return _Session(
            self._client_arrived,
            self._session_ended,
            self.handler,
            hostname=self.hostname,
            ident=IDENT,
            data_size_limit=self.limits.max_bytes,
            enable_SMTPUTF8=True,
            timeout=IDLE_SECONDS,
            tls_context=self.tls,
        )

    def _client_arrived(self, client: str) -> bool:
        """Whether the client may hold one more session; counted either way, until it ends."""
        self._clients[client] += 1
        if self._clients[client] > self.limits.sessions_per_client:
            log.info("mail session refused: 421 its client holds %d", self.limits.sessions_per_client)
            return False
        return True

    def _session_ended(self, client: str) -> None:
        self.sessions -= 1
        self._clients[client] -= 1
        if self._clients[client] <= 0:
            del self._clients[client]

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]  # the one chosen, when asked for port 0

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


def citizens_mailbox(settings: Settings, take_in: TakeIn) -> Mailbox:
    """The deployment's receiver: its addresses, its port, STARTTLS with its certificate (or one made in its
    home at the first start, named after the addresses' domain)."""
    domain = settings.mail_addresses[0].rpartition("@")[2] or "hotline"
    tls = server_tls(settings.mail_tls_cert, settings.mail_tls_key, settings.home, domain)
    handler = MailboxHandler(settings.mail_addresses, take_in)
    return Mailbox(settings.bind_host, settings.smtp_port, handler, tls=tls)
