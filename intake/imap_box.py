"""The hotline's mailbox on the deployment's own mail server: polled over IMAP, each new mail a ticket.

Where the hotline's address lives on an existing mail server, the controller
polls it instead of (or beside) receiving SMTP itself. A mail is read without
marking it (``BODY.PEEK``), becomes a ticket, and only then is marked seen: a
crash in between reads it again, and its Message-ID finds the same ticket. A
mail refused for good (a ``TicketError``) is marked seen too, and logged, so it
does not come back every round.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from hotline.intake.mailbox import TakeIn
from hotline.ticketing.errors import TicketError

log = logging.getLogger(__name__)
TIMEOUT = 30.0


class ImapUrlError(ValueError):
    """``HOTLINE_IMAP_URL`` does not say where the mailbox is."""


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    user: str
    folder: str
    tls: bool

    @classmethod
    def parse(cls, url: str) -> ImapAccount:
        """``imaps://user@host[:port]/FOLDER`` (TLS) or ``imap://…`` (plain, for a server on loopback)."""
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise ImapUrlError(f"expected imaps://user@host[:port]/FOLDER, got {url!r}")
        tls = parts.scheme == "imaps"
        return cls(
            parts.hostname,
            parts.port or (993 if tls else 143),
            unquote(parts.username),
            unquote(parts.path.lstrip("/")) or "INBOX",
            tls,
        )


class ImapMailbox:
    def __init__(self, account: ImapAccount, password: str, take_in: TakeIn) -> None:
        self.account = account
        self.password = password
        self.take_in = take_in

    def _connect(self) -> imaplib.IMAP4:
        a = self.account
        kind = imaplib.IMAP4_SSL if a.tls else imaplib.IMAP4
        connection = kind(a.host, a.port, timeout=TIMEOUT)
        connection.login(a.user, self.password)
        status, _ = connection.select(f'"{a.folder}"')
        if status != "OK":
            connection.logout()
            raise imaplib.IMAP4.error(f"no folder {a.folder}")
        return connection

    def _unseen(self, connection: imaplib.IMAP4) -> list[tuple[bytes, bytes]]:
        _, found = connection.uid("SEARCH", "UNSEEN")
        mails = []
        for uid in found[0].split():
            _, parts = connection.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in parts if isinstance(part, tuple)), None)
            if raw:
                mails.append((uid, raw))
        return mails

    async def collect(self) -> list[str]:
        """Every unseen mail becomes a ticket and is then marked seen; returns the tickets' numbers."""
        connection = await asyncio.to_thread(self._connect)
        numbers = []
        try:
            for uid, raw in await asyncio.to_thread(self._unseen, connection):
                try:
                    number, created = await self.take_in(raw)
                    numbers.append(number)
                    log.info("mail became ticket %s", number, extra={"new_ticket": created})
                except TicketError as exc:
                    log.warning("mail %s refused for good (%s); marked seen", uid.decode(), exc.error_id)
                await asyncio.to_thread(connection.uid, "STORE", uid, "+FLAGS", "(\\Seen)")
        finally:
            await asyncio.to_thread(connection.logout)
        return numbers
