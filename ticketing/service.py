"""The ticket desk: what the API and the CLI call. It checks references, applies privacy and audits reads."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kernel.api.identity import Actor, Role
from hotline.ticketing import exchange, kpi, privacy
from hotline.ticketing.attachments import AttachmentStore, IntakeFile
from hotline.ticketing.attention import Action, due_actions, hot_matter, hot_window
from hotline.ticketing.calendar import WorkCalendar, package_calendar
from hotline.ticketing.directory import Directory
from hotline.ticketing.errors import TicketError, forbidden, invalid
from hotline.ticketing.guesses import DEFAULT_KEYWORDS, Gazetteer, Keywords, guess, on_intake
from hotline.ticketing.kb_store import KnowledgeBase
from hotline.ticketing.policy import Policy
from hotline.ticketing.store import TicketFilter, TicketStore
from hotline.ticketing.vocabulary import Satisfaction, Status, TicketType
from hotline.ticketing.workflow import (
    CLOSED,
    DESCRIPTION_LIMIT,
    MAILBOX_CHANNELS,
    Context,
    Ticket,
    check_allowed,
    linkage_label,
    parse_intake,
)

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
#: Where a citizen's message without a topic waits for an agent to classify it.
UNCLASSIFIED_CATEGORY = "other"
#: The sources only a signed channel may use (``take_in``): a gateway's (``sms-gateway``) or the
#: controller's own mailboxes' (``email-gateway``, ``voicemail-gateway``).
GATEWAY_SUFFIX = "-gateway"
#: Who the platform's own actions (催办, 督办, 重点) are recorded as.
SYSTEM = Actor("system", Role.SUPERVISOR)
SWEEP_PAGE = 200
#: Tickets whose calls' recordings are evidence, kept on hold whatever the ticket's status.
EVIDENCE_TYPES = frozenset({TicketType.COMPLAINT, TicketType.REPORT})
#: Told of each call linked to a ticket (call id, ticket number) once it is: the recordings file it under.
CallLinked = Callable[[str, str], Awaitable[None]]
#: Same caller, or same category and region, within this window → a likely duplicate (并单).
DUPLICATE_WINDOW = timedelta(days=7)
#: The intake's names for the fields a channel names otherwise.
GUESSED_AS = {"type": "ticket_type", "phone": "caller_phone"}


def utc_now() -> datetime:
    return datetime.now(UTC)


class TicketDesk:
    def __init__(
        self,
        engine: AsyncEngine,
        policy: Policy,
        calendar: WorkCalendar | None = None,
        clock: Clock = utc_now,
        confidential_roles: frozenset[Role] = privacy.DEFAULT_CONFIDENTIAL_ROLES,
        attachments: AttachmentStore | None = None,
        keywords: Keywords = DEFAULT_KEYWORDS,
    ) -> None:
        self.store = TicketStore(engine)
        self.directory = Directory(engine)
        self.policy = policy
        base = calendar or package_calendar()
        self.calendar = WorkCalendar(base.holidays, base.workdays, base.known_years, policy.service_day)
        self.clock = clock
        self.confidential_roles = confidential_roles
        self.kb = KnowledgeBase(engine, self.directory, lambda: self.calendar, policy.timezone)
        self.attachments = attachments or AttachmentStore(Path("var") / "attachments")
        #: The root's listener for calls linked to tickets (the recordings' register).
        self.on_call_linked: CallLinked | None = None
        #: The words that guess a message's type and emergency, and the directory as last taught to jieba.
        self.keywords = keywords
        self._taught: tuple[object, Gazetteer] | None = None
        self._teaching = asyncio.Lock()

    async def start(self) -> None:
        """Seed a new database's directory and layer the administrator's calendar days on top."""
        await self.directory.seed_if_empty()
        await self.reload_calendar()

    async def reload_calendar(self) -> None:
        overrides, years = await self.store.calendar_overrides()
        self.calendar = self.calendar.with_overrides(overrides, years)

    def context(self, actor: Actor) -> Context:
        return Context(actor, self.clock().astimezone(self.policy.timezone), self.policy, self.calendar)

    # ------------------------------------------------------------------ writing

    async def take_in(
        self, data: Any, actor: Actor, *, signed: bool = False, unsaid: Collection[str] | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Accept a ticket from any channel; returns the platform's view and whether it is new.

        An idempotency key ``(source, external_id)`` belongs to whoever made the ticket
        with it: a repeat by anyone else is refused without a word of the ticket, and
        the gateways' sources are reserved to their signed channel, so nobody can claim
        a citizen's message id before the gateway delivers it.

        A citizen's own message (``unsaid``: the intake's fields its sender left to the platform)
        is classified from its words, as a call's draft is, each guess named in ``guessed``.
        """
        intake = parse_intake(data)
        if intake.source.endswith(GATEWAY_SUFFIX) and not signed:
            raise forbidden(f"来源 {intake.source} 只能由签名的短信/微信网关使用")
        if unsaid is not None:
            intake = on_intake(intake, await self.guesses(intake.description), unsaid)
        category = await self.directory.category(intake.category)
        await self.directory.region(intake.region)
        if category.urgent and not intake.urgent:
            intake = dataclasses.replace(intake, urgent=True)
        ticket, created = await self.store.create(intake, self.context(actor))
        if not created and (await self.store.events(ticket.number))[0].actor != actor.name:
            raise TicketError(
                "external-id-taken", f"来源 {intake.source} 的编号 {intake.external_id} 已被其他用户使用", 409
            )
        if created and intake.call_id and self.on_call_linked is not None:
            await self.on_call_linked(intake.call_id, ticket.number)
        if created and await self._flag_hot(ticket):
            ticket = await self.store.get(ticket.number)
        return privacy.view(ticket, actor, self.confidential_roles), created

    async def take_in_with_files(
        self, intake: dict[str, Any], files: Sequence[IntakeFile], via: str, reason: str
    ) -> tuple[str, bool]:
        """A message left by a citizen (an email, a voicemail) with its files, from the channel ``via``;
        what it leaves unsaid is guessed from its words.

        Files first, then the ticket, then the files named on it: a crash anywhere leaves the sender
        without an acknowledgement, and the resend (same ``external_id``) completes what is missing.
        """
        actor = Actor(f"{via}{GATEWAY_SUFFIX}", Role.AGENT)
        unsaid = _left_unsaid(intake, await self.directory.root_region())
        stored, refused = [], []
        for file in files:
            try:
                stored.append(await self.attachments.save(file.name, _at_once(file.content)))
            except TicketError as exc:
                refused.append(f"{file.name}：{exc.message}")
        if refused:
            note = "\n\n【未保存的附件】" + "；".join(refused)
            intake = {**intake, "description": (intake["description"] + note)[:DESCRIPTION_LIMIT]}
        intake = {**intake, "source": actor.name}
        view, created = await self.take_in(intake, actor, signed=True, unsaid=unsaid)
        number = view["number"]
        named = {file["sha256"] for file in (await self.store.get(number)).attachments}
        for file in stored:
            if file.sha256 not in named:
                payload = {**dataclasses.asdict(file), "reason": reason}
                await self.store.act(number, "attach", payload, self.context(actor))
                named.add(file.sha256)
        return number, created

    async def guesses(self, text: str) -> dict[str, Any]:
        """What the words suggest (``ticketing.guesses.guess``), worked out off the event loop; with the
        directory unreadable, no category or region."""
        try:
            gazetteer: Gazetteer | None = await self.gazetteer()
        except Exception:
            log.exception("the directory could not be read; no category or region is guessed")
            gazetteer = None
        return await asyncio.to_thread(guess, text, self.keywords, gazetteer)

    async def warm_guesses(self) -> None:
        """Teach jieba the directory before the first words need it (about a second, off the event loop)."""
        await self.guesses("")

    async def gazetteer(self) -> Gazetteer:
        """The directory as citizens say it, taught to jieba off the event loop once per version of the
        directory: a changed tree teaches a new one."""
        trees = await self.directory.trees()
        async with self._teaching:
            if self._taught is None or self._taught[0] != trees:
                gazetteer = Gazetteer.of(*trees, self.keywords.categories)
                await asyncio.to_thread(gazetteer.warm)
                self._taught = (trees, gazetteer)
            return self._taught[1]

    async def name_recording(self, number: str, recording: Mapping[str, Any], name: str, via: str) -> None:
        """A recording the register keeps for this ticket (a voicemail), named among its files as the
        channel ``via`` brought it; its audio is heard through the register, never as the ticket's file.
        Naming it again changes nothing."""
        ticket = await self.store.get(number)
        if any(file.get("recording_id") == recording["id"] for file in ticket.attachments):
            return
        payload = {
            "sha256": recording["sha256"],
            "name": name,
            "size": recording["size"],
            "content_type": "audio/wav",
            "recording_id": recording["id"],
            "reason": "录音（录音库）",
        }
        actor = Actor(f"{via}{GATEWAY_SUFFIX}", Role.AGENT)
        await self.store.act(number, "attach", payload, self.context(actor))

    async def _flag_hot(self, ticket: Ticket) -> bool:
        """Mark a matter 重点 when this ticket makes it one; says whether this ticket was marked.

        Messages nobody has classified yet (voicemails, emails, SMS: 其他 across the whole city, or a
        topic and place only guessed from their words) are no matter of their own: three of a night are
        three requests, not one hot spot.
        """
        if ticket.intake.category == UNCLASSIFIED_CATEGORY or _matter_guessed(ticket):
            return False
        rule = self.policy.attention
        found = await self.store.list(
            TicketFilter(
                category=ticket.intake.category,
                region=ticket.intake.region,
                accepted_from=hot_window(ticket.accepted_at, rule),
                limit=500,
            )
        )
        similar = [other for other in found if not _matter_guessed(other)]
        actions = hot_matter(ticket, similar, rule)
        await self._take(actions)
        return any(action.number == ticket.number for action in actions)

    async def sweep(self) -> list[Action]:
        """Remind and supervise tickets near or past their handling deadline; returns what was done."""
        now = self.context(SYSTEM).now
        # The query only narrows; ``due_actions`` decides. A second's slack keeps a ticket due exactly
        # at the horizon in.
        horizon = self.policy.attention.remind_before.after(now, self.calendar).at + timedelta(seconds=1)
        actions: list[Action] = []
        offset = 0
        while True:
            page = await self.store.list(TicketFilter(overdue_at=horizon, limit=SWEEP_PAGE, offset=offset))
            for ticket in page:
                actions += await self._take(due_actions(ticket, now, self.policy.attention, self.calendar))
            if len(page) < SWEEP_PAGE:
                return actions
            offset += SWEEP_PAGE

    async def _take(self, actions: list[Action]) -> list[Action]:
        """Apply the platform's own actions; one that lost a race with a person is skipped, not fatal."""
        done = []
        for action in actions:
            try:
                await self.store.act(
                    action.number, action.command, {"reason": action.reason}, self.context(SYSTEM)
                )
            except TicketError as error:
                log.info("skipped %s on %s: %s", action.command, action.number, error.message)
            else:
                done.append(action)
        return done

    async def act(self, number: str, command: str, payload: Any, actor: Actor) -> dict[str, Any]:
        if command == "attach":
            raise TicketError("upload-required", f"附件请上传到 /api/tickets/{number}/attachments", 422)
        ticket = await self.store.get(number)
        privacy.require_visible(ticket, actor, self.confidential_roles)
        if isinstance(payload, dict) and command in ("dispatch", "redispatch"):
            units = [payload.get("unit"), *(payload.get("assist_units") or [])]
            await self.directory.require_units([u for u in units if isinstance(u, str)])
        if isinstance(payload, dict) and command == "record_linkage":  # what happened is the call's to say
            linkage = await self.store.call_linkage(ticket.intake.call_id) if ticket.intake.call_id else None
            called = {"service": linkage.service, "mode": linkage.mode} if linkage else {}
            payload = {**payload, "service": None, "mode": None, **called}
        updated = await self.store.act(number, command, payload, self.context(actor))
        return await self._shown(updated, actor)

    async def attach(
        self, number: str, name: str, chunks: AsyncIterator[bytes], actor: Actor, reason: str = ""
    ) -> dict[str, Any]:
        """Store a file, then record it on the ticket: the file is on disk before the ticket names it."""
        ticket = await self.store.get(number)
        privacy.require_visible(ticket, actor, self.confidential_roles)
        check_allowed(ticket, "attach", actor)
        stored = await self.attachments.save(name, chunks)
        payload = {**dataclasses.asdict(stored), "reason": reason}
        updated = await self.store.act(number, "attach", payload, self.context(actor))
        return await self._shown(updated, actor)

    async def attachment(self, number: str, sha256: str, actor: Actor) -> tuple[Path, dict[str, Any]]:
        """A file of a ticket this person may see; a unit's or quality staff's download is audited like any
        personal read."""
        ticket = await self.store.get(number)
        privacy.require_visible(ticket, actor, self.confidential_roles)
        file = next((f for f in ticket.attachments if f["sha256"] == sha256), None)
        if file is not None and "recording_id" in file:  # 枝江 第二十六条: the register's rules
            raise TicketError(
                "recording-in-register",
                f"录音须经录音库收听：/api/recordings/{file['recording_id']}/audio（须说明事由）",
                403,
            )
        path = self.attachments.path(sha256)
        if file is None or not path.exists():
            raise TicketError("not-found", f"工单 {number} 没有附件 {sha256}", 404, what="attachment")
        if actor.role in privacy.AUDITED:
            await self.store.record_read(
                self.clock(), actor.name, actor.role, actor.unit, number, [f"attachment:{file['name']}"]
            )
        return path, file

    # ------------------------------------------------------------------ reading

    async def show(self, number: str, actor: Actor) -> dict[str, Any]:
        ticket = await self.store.get(number)
        privacy.require_visible(ticket, actor, self.confidential_roles)
        shown = await self._shown(ticket, actor)
        shown["events"] = privacy.history(await self.store.events(number), actor, self.policy.timezone)
        if actor.role in privacy.READERS:
            shown["suggested_unit"] = await self.directory.suggest_unit(
                ticket.intake.category, ticket.intake.region
            )
            shown["call_rating"] = await self._call_rating(ticket.intake.call_id)
            shown["call_linkage"] = await self._call_linkage(ticket)
        return shown

    async def note_linkage(self, call_id: str, service: str, mode: str, agent: str) -> None:
        """An agent shared the call with 110/119/120/122; the ticket taken on it shows how."""
        await self.store.note_linkage(call_id, service, mode, agent, self.clock())

    async def _call_linkage(self, ticket: Ticket) -> dict[str, str] | None:
        """The 110 linkage on the ticket's call and who took the matter: recorded on the ticket, or, for a
        one-key transfer nobody recorded, the service; a three-way call waits for the agent's word."""
        row = await self.store.call_linkage(ticket.intake.call_id) if ticket.intake.call_id else None
        if row is None:
            return None
        outcome = (ticket.linkage or {}).get("outcome") or ("taken" if row.mode == "transfer" else "")
        return {
            "service": row.service,
            "mode": row.mode,
            "agent": row.agent,
            "at": self.local(row.at),
            "outcome": outcome,
            "outcome_label": linkage_label(row.service, outcome),
        }

    async def rate_call(self, call_id: str, rating: Satisfaction, agent: str) -> None:
        """The caller's rating of the service (the IVR's survey), for the ticket taken on that call."""
        await self.store.rate_call(call_id, rating.value, agent, self.clock())

    async def _call_rating(self, call_id: str) -> dict[str, str] | None:
        """How the caller rated the agent's service on the ticket's call (platform staff only)."""
        row = await self.store.call_rating(call_id) if call_id else None
        if row is None:
            return None
        rating = Satisfaction(row.rating)
        return {
            "rating": rating.value,
            "label": rating.label,
            "agent": row.agent,
            "at": self.local(row.rated_at),
        }

    async def _shown(self, ticket: Ticket, actor: Actor) -> dict[str, Any]:
        shown = privacy.view(ticket, actor, self.confidential_roles)
        if actor.role in privacy.AUDITED:
            fields = privacy.personal_fields(shown)
            if fields:
                await self.store.record_read(
                    self.clock(), actor.name, actor.role, actor.unit, ticket.number, fields
                )
        return shown

    async def list(self, actor: Actor, where: TicketFilter) -> list[dict[str, Any]]:
        """A page of tickets; units see only theirs, and list rows carry no personal data."""
        if actor.role == Role.UNIT:
            where = dataclasses.replace(where, unit=actor.unit)
        rows = []
        for ticket in await self.store.list(where):
            if privacy.can_see(ticket, actor, self.confidential_roles):
                rows.append(summary(ticket))
        return rows

    async def call_ids(self, number: str, actor: Actor) -> list[str]:
        """The calls about a ticket (taken on, placed about), if this person may see the ticket (for those
        calls' recordings)."""
        ticket = await self.store.get(number)
        privacy.require_visible(ticket, actor, self.confidential_roles)
        return await self.store.calls_of(number)

    async def link_call(self, number: str, call_id: str) -> None:
        """A call placed about the ticket (an agent's dial-out): its recordings are the ticket's too."""
        await self.store.link_call(number, call_id)
        if self.on_call_linked is not None:
            await self.on_call_linked(call_id, number)

    async def tickets_of_calls(self, call_ids: Sequence[str]) -> dict[str, str]:
        return await self.store.tickets_of_calls(call_ids)

    async def confidential_tickets(self, numbers: Collection[str]) -> set[str]:
        """Of these tickets, the confidential ones: their calls' recordings are for the confidential roles."""
        return {number for number in numbers if (await self.store.get(number)).intake.confidential}

    async def night_tickets(self, start: datetime, end: datetime) -> list[Ticket]:
        """The voicemails and emails taken in between ``start`` and ``end``, for the morning digest."""
        found: list[Ticket] = []
        for channel in MAILBOX_CHANNELS:
            where = TicketFilter(channel=channel, accepted_from=start, accepted_to=end, limit=500)
            found += await self.store.list(where)
        return found

    async def unit_phones(self) -> dict[str, str]:
        """Each unit's phone for its SMS notices, by unit code."""
        return {unit["code"]: unit["phone"] for unit in await self.directory.units()}

    async def held_calls(self, call_ids: Sequence[str]) -> set[str]:
        """Of these calls, those whose recordings a ticket still needs: an open ticket, or a complaint or
        report (evidence, kept until a person decides), about that call."""
        if not call_ids:
            return set()
        return await self.store.calls_held(
            call_ids, [status.value for status in CLOSED], [kind.value for kind in EVIDENCE_TYPES]
        )

    async def duplicates(self, number: str, actor: Actor) -> list[dict[str, Any]]:
        """Open tickets that look like the same matter: same caller, or same place and topic, recently."""
        ticket = await self.store.get(number)
        privacy.require_visible(ticket, actor, self.confidential_roles)
        since = ticket.accepted_at - DUPLICATE_WINDOW
        candidates: dict[str, Ticket] = {}
        intake = ticket.intake
        filters = [
            TicketFilter(category=intake.category, region=intake.region, accepted_from=since, limit=200)
        ]
        if intake.caller_phone:
            filters.append(TicketFilter(caller_phone=intake.caller_phone, accepted_from=since, limit=200))
        for where in filters:
            for other in await self.store.list(where):
                visible = privacy.can_see(other, actor, self.confidential_roles)
                if other.number != number and other.status not in CLOSED and visible:
                    candidates[other.number] = other
        return [summary(t) for t in sorted(candidates.values(), key=lambda t: t.accepted_at)]

    async def receive_result(self, number: str, document: Any, actor: Actor) -> dict[str, Any]:
        """Apply another platform's result to a ticket forwarded to it, once per ``result_id``."""
        result_id, text = exchange.parse_result(document)
        if not exchange.already_applied(await self.store.events(number), result_id):
            try:
                if (await self.store.get(number)).status == Status.DISPATCHED:
                    await self.act(number, "sign", {}, actor)
                await self.act(number, "reply", {"text": text, "result_id": result_id}, actor)
            except TicketError as error:
                # A re-send racing the first one: fine if the first one applied this very result.
                if error.error_id != "illegal-transition" or not exchange.already_applied(
                    await self.store.events(number), result_id
                ):
                    raise
        return await self.show(number, actor)

    async def kpi_report(self, group: str, start: date, end: date) -> list[dict[str, Any]]:
        """KPI rows (counts and rates) for tickets accepted from ``start`` up to, not including, ``end``."""
        if group not in kpi.GROUPS:
            raise invalid("group", f"must be one of {', '.join(kpi.GROUPS)}")
        if end <= start:
            raise invalid("to", "must be after from")
        zone = self.policy.timezone
        period = kpi.Period(
            datetime.combine(start, time(0), zone), datetime.combine(end, time(0), zone), self.clock()
        )
        return [kpi.with_rates(row) for row in await self.store.kpi_counts(group, period)]

    async def audit_trail(self, number: str, actor: Actor) -> list[dict[str, Any]]:
        if actor.role not in (Role.SUPERVISOR, Role.ADMIN):
            raise TicketError("forbidden", "only supervisors and administrators read the audit trail", 403)
        await self.store.get(number)
        return [{**read, "at": self.local(read["at"])} for read in await self.store.audit_trail(number)]

    def local(self, moment: datetime) -> str:
        """A moment as the API and the CLI give it: in the deployment's zone, as the tickets' own (the
        database hands moments back in UTC)."""
        return moment.astimezone(self.policy.timezone).isoformat()


def _matter_guessed(ticket: Ticket) -> bool:
    """Whether the ticket's topic or place is the platform's guess, not yet a person's word."""
    return not {"category", "region"}.isdisjoint(ticket.intake.guessed)


def _left_unsaid(intake: Mapping[str, Any], root_region: str) -> set[str]:
    """The fields an email's or a voicemail's intake leaves at its channel's placeholder (其他, the
    unclassified topic, the whole city, no number), by the intake's names."""
    placeholders = {
        "type": TicketType.OTHER.value,
        "category": UNCLASSIFIED_CATEGORY,
        "region": root_region,
        "caller_phone": "",
    }
    return {
        GUESSED_AS.get(key, key)
        for key, placeholder in placeholders.items()
        if intake.get(key, "") in ("", placeholder)
    }


async def _at_once(content: bytes) -> AsyncIterator[bytes]:
    yield content


def summary(ticket: Ticket) -> dict[str, Any]:
    """A list row: what the work is and where it stands, no personal data."""
    return {
        "number": ticket.number,
        "status": ticket.status.value,
        "status_label": ticket.status.label,
        "type": ticket.intake.ticket_type.value,
        "category": ticket.intake.category,
        "region": ticket.intake.region,
        "lead_unit": ticket.lead_unit,
        "accepted_at": ticket.accepted_at.isoformat(),
        "handling_due": ticket.handling_due.isoformat() if ticket.handling_due else None,
        "urgent": ticket.urgent,
        "hot": ticket.hot,
        "supervised": ticket.supervised,
        "estimated": bool(ticket.estimated_years),
    }
