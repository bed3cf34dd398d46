"""The notices' loop: follow the ticket events into the outbox, add the morning digest, empty the outbox.

Following reads the ticket events after the outbox's cursor, decides their
notices (``notices.rules``) and stores them with the new cursor in one
transaction: a crash re-decides the same events, whose keys are already
there. Delivering sends what is due; a sender that is away (the SMTP relay,
the SMS gateway) only delays a notice: it is tried again later, longer
apart each time, until it goes or is refused for good.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from hotline.notices.outbox import Outbox
from hotline.notices.rules import ACKNOWLEDGED, Contacts, Medium, Notice, night_digest, notices_for
from hotline.notices.senders import Sender, Undeliverable
from hotline.ticketing.workflow import Event, Ticket

log = logging.getLogger(__name__)
EventsAfter = Callable[[int, int], Awaitable[list[tuple[int, str, Event]]]]
TicketOf = Callable[[str], Awaitable[Ticket]]
UnitPhones = Callable[[], Awaitable[Mapping[str, str]]]
NightTickets = Callable[[datetime, datetime], Awaitable[list[Ticket]]]
Clock = Callable[[], datetime]
PAGE = 200
#: An address (or mobile) that was given this many notices within the window gets no acknowledgement of
#: a new ticket: anyone can write in a stranger's address, and the hotline must not mail them on and on.
#: The ticket is taken all the same; answers and agents' words are never held back.
ACKNOWLEDGEMENTS_PER_ADDRESS = 5
ACKNOWLEDGEMENT_WINDOW = timedelta(days=1)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Digest:
    """The morning digest: each day at ``at`` (local time in ``zone``), the tickets left in the 24 hours
    before, as ``tickets(start, end)`` finds them."""

    at: time
    zone: tzinfo
    tickets: NightTickets


class Notices:
    def __init__(
        self,
        outbox: Outbox,
        events_after: EventsAfter,
        ticket_of: TicketOf,
        unit_phones: UnitPhones,
        senders: Mapping[Medium, Sender],
        on_duty: tuple[str, ...] = (),
        digest: Digest | None = None,
        clock: Clock = utc_now,
        first_retry: float = 30.0,
        longest_retry: float = 1800.0,
    ) -> None:
        self.outbox = outbox
        self.events_after = events_after
        self.ticket_of = ticket_of
        self.unit_phones = unit_phones
        self.senders = dict(senders)
        self.on_duty = on_duty
        self.digest = digest
        self._digested: date | None = None
        self.clock = clock
        self.first_retry, self.longest_retry = first_retry, longest_retry

    async def start(self, last_event_id: int) -> None:
        """A deployment's first start follows from now: its earlier tickets were never promised notices."""
        if await self.outbox.cursor() is None:
            await self.outbox.enqueue([], self.clock(), last_event_id)

    def retry_delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.first_retry * 2 ** min(attempts, 20), self.longest_retry))

    async def follow(self) -> int:
        """Decide the notices of every ticket event not yet followed; returns how many were added."""
        added = 0
        while True:
            events = await self.events_after(await self.outbox.cursor() or 0, PAGE)
            if not events:
                return added
            contacts = Contacts(await self.unit_phones(), self.on_duty, frozenset(self.senders))
            tickets: dict[str, Ticket] = {}
            notices: list[Notice] = []
            given: dict[str, int] = {}
            for event_id, number, event in events:
                if number not in tickets:
                    tickets[number] = await self.ticket_of(number)
                try:
                    decided = notices_for(event_id, event, tickets[number], contacts)
                except Exception:  # one event the rules cannot read must not hold back every later notice
                    log.exception("no notices for event %s (%s of %s)", event_id, event.kind, number)
                    continue
                if event.kind == ACKNOWLEDGED:
                    decided = await self._within_bound(decided, given)
                notices += decided
            added += await self.outbox.enqueue(notices, self.clock(), events[-1][0])

    async def _within_bound(self, acknowledgements: list[Notice], given: dict[str, int]) -> list[Notice]:
        """The acknowledgements whose address is still under its bound; ``given`` counts, per address, the
        notices already decided (in the outbox, and in this round)."""
        kept = []
        for notice in acknowledgements:
            if notice.recipient not in given:
                since = self.clock() - ACKNOWLEDGEMENT_WINDOW
                given[notice.recipient] = await self.outbox.given_to(notice.recipient, since)
            if given[notice.recipient] >= ACKNOWLEDGEMENTS_PER_ADDRESS:
                log.info(
                    "no acknowledgement of ticket %s: its %s address had %d notices within a day",
                    notice.ticket_number,
                    notice.medium.value,
                    given[notice.recipient],
                )
                continue
            given[notice.recipient] += 1
            kept.append(notice)
        return kept

    async def digest_the_night(self) -> int:
        """Once a day, from the digest's hour on: the night's digest into the outbox (keyed by the day)."""
        if self.digest is None or not self.on_duty or Medium.EMAIL not in self.senders:
            return 0
        now = self.clock().astimezone(self.digest.zone)
        if now.time() < self.digest.at or self._digested == now.date():
            return 0
        end = datetime.combine(now.date(), self.digest.at, self.digest.zone)
        tickets = await self.digest.tickets(end - timedelta(days=1), end)
        added = await self.outbox.enqueue(
            night_digest(now.date(), tickets, self.on_duty, self.digest.zone), now
        )
        self._digested = now.date()
        return added

    async def deliver(self) -> int:
        """Send every notice that is due; returns how many went."""
        sent = 0
        for queued in await self.outbox.due(self.clock()):
            sender = self.senders.get(queued.notice.medium)
            if sender is None:  # the medium was switched off after the notice was decided
                await self.outbox.fail(queued.id, f"no {queued.notice.medium.value} sender is configured")
                continue
            try:
                await sender.send(queued.notice)
            except Undeliverable as exc:
                log.warning("notice %s failed for good: %s", queued.id, _unaddressed(exc, queued.notice))
                await self.outbox.fail(queued.id, str(exc))
            except Exception as exc:
                delay = self.retry_delay(queued.attempts)
                why = _unaddressed(exc, queued.notice)
                log.warning("notice %s not sent, again in %ss: %s", queued.id, delay.seconds, why)
                await self.outbox.retry(queued.id, f"{type(exc).__name__}: {exc}", self.clock() + delay)
            else:
                await self.outbox.sent(queued.id, self.clock())
                sent += 1
        return sent

    async def round(self) -> None:
        """Follow, digest, deliver: one round of the controller's notices loop."""
        await self.follow()
        await self.digest_the_night()
        await self.deliver()


def _unaddressed(error: Exception, notice: Notice) -> str:
    """A sender's reason for the log: the relay's or the gateway's words name the address or the number,
    which stay in the outbox (personal data stays out of the log)."""
    return str(error).replace(notice.recipient, f"<the {notice.medium.value} recipient>")
