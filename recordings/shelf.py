"""The recordings' register: each call's files entered when the call ends, found by call, served by id.

MixMonitor closes its file a moment after the hang-up, so a file is entered
once its size has stopped changing; it then moves from where Asterisk wrote it
into the folder of the call's day (``YYYY/MM/DD/<call id>-….wav``), so a day's
recordings can be archived or restored as one folder. The register keeps what
a reviewer needs (call, ticket, line, caller, agent, start, length, size,
SHA-256), never the folder: a file is reached only through the register and
the access rules, never by a path on an event or a static folder.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import shutil
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import column, delete, select, table, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from hotline.kernel.api.identity import Role
from hotline.kernel.api.users import UNITS
from hotline.kernel.runtime.db import writer
from hotline.kernel.runtime.events import Publish
from hotline.recordings.access import Heard, snippets
from hotline.recordings.files import conversation_path, duration_seconds, intake_path, kept_path, track_path
from hotline.recordings.tables import RecordingAccessRow, RecordingGrantRow, RecordingRow, RecordingTextRow
from hotline.speech.workers import Recognizer

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
#: The calls of each ticket, named rather than imported: ticketing owns that table.
TICKET_CALLS = table("ticket_calls", column("ticket_number"), column("call_id"))
#: Which of these calls a ticket still needs (open, or a complaint): their files are kept.
Held = Callable[[Sequence[str]], Awaitable[set[str]]]
#: The ticket each of these calls is about, where one is.
TicketsOf = Callable[[Sequence[str]], Awaitable[dict[str, str]]]
#: Which of these tickets are confidential (the ticket desk says).
ConfidentialTickets = Callable[[Collection[str]], Awaitable[set[str]]]
#: The kinds that hold one direction of a call: their text says who said what.
DIRECTIONS = frozenset({"caller_track", "agent_track", "department_track"})
#: What a call leaves, by kind: the file name in the recordings folder.
KINDS: dict[str, Callable[[str], str]] = {
    "conversation": lambda call_id: Path(conversation_path("", call_id)).name,
    "caller_track": lambda call_id: Path(track_path("", call_id, "caller")).name,
    "agent_track": lambda call_id: Path(track_path("", call_id, "agent")).name,
    "department_track": lambda call_id: Path(track_path("", call_id, "department")).name,
    "intake": lambda call_id: Path(intake_path("", call_id)).name + ".wav",
}


class UnknownUnit(LookupError):
    """A grant names a unit the directory does not know, or one retired."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class RecordingShelf:
    def __init__(
        self,
        engine: AsyncEngine,
        folder: Path,
        publish: Publish | None = None,
        clock: Clock = utc_now,
        settle: float = 0.5,
        patience: float = 15,
        zone: tzinfo = UTC,
        tickets_of: TicketsOf | None = None,
        scribe: Recognizer | None = None,
        confidential_tickets: ConfidentialTickets | None = None,
        confidential_roles: frozenset[Role] = frozenset(),
    ) -> None:
        """``publish`` tells the call records each new entry (``recording.filed``); ``zone`` is the
        centre's, whose days name the folders; ``tickets_of`` finds the ticket a call is about;
        ``scribe``, when given, writes down each direction of each call once it is entered;
        ``confidential_tickets`` says which tickets are confidential: their calls' recordings are for the
        ``confidential_roles`` alone (the ticket desk's roles for confidential tickets)."""
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        # Writes take SQLite's write lock at BEGIN: a deferred one that reads first fails when another writer
        # committed meanwhile ("database is locked"), and the recording would go unentered.
        self.writes = async_sessionmaker(writer(engine), expire_on_commit=False)
        self.folder = folder  # the recordings folder, as the controller sees it
        self.publish = publish
        self.clock = clock
        self.settle, self.patience = settle, patience
        self.zone = zone
        self.tickets_of = tickets_of
        self.scribe = scribe
        self.confidential_tickets = confidential_tickets
        self.confidential_roles = confidential_roles
        self._tasks: set[asyncio.Task[None]] = set()

    def call_ended(self, call: Mapping[str, object]) -> None:
        """Enter the call's files in the background, once Asterisk has finished writing them."""
        task = asyncio.create_task(self.enter(call), name=f"recordings-{call.get('call_id')}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _settled(self, path: Path) -> bool:
        """Whether the file exists and has stopped growing, waiting a little for MixMonitor to close it.

        Both files are created while the call lasts (the intake before the queue, the conversation at the
        answer), so a file missing at the hang-up is one the call never had.
        """
        deadline = asyncio.get_running_loop().time() + self.patience
        size = -1
        while path.exists() and asyncio.get_running_loop().time() < deadline:
            now = path.stat().st_size
            if now == size:
                return True
            size = now
            await asyncio.sleep(self.settle)
        return False

    async def _measured(self, call_id: str) -> list[tuple[str, Path, float, str]]:
        """The call's finished files: kind, where Asterisk wrote it, seconds, SHA-256."""
        found = []
        for kind, name_of in KINDS.items():
            path = self.folder / name_of(call_id)
            if not await self._settled(path):
                continue
            try:
                seconds = await asyncio.to_thread(duration_seconds, path)
                sha256 = await asyncio.to_thread(_digest, path)
            except (OSError, EOFError, ValueError) as exc:  # not a WAV Asterisk finished: leave it out
                log.warning("recording %s not entered: %s", path.name, exc)
                continue
            found.append((kind, path, seconds, sha256))
        return found

    async def enter(self, call: Mapping[str, object]) -> list[int]:
        """Enter the call's recordings and move them into its day's folder; returns the ids entered now
        (a second call of this finds nothing left to enter)."""
        call_id = str(call["call_id"])
        ended = datetime.fromtimestamp(float(call.get("at") or self.clock().timestamp()), UTC)
        files = await self._measured(call_id)
        if not files:
            return []
        # One folder for the whole call: the day it began, as the centre counts days.
        began = ended - timedelta(seconds=max(seconds for _, _, seconds, _ in files))
        day = began.astimezone(self.zone).strftime("%Y/%m/%d")
        entered = []
        for kind, path, seconds, sha256 in files:
            row = RecordingRow(
                call_id=call_id,
                kind=kind,
                file=f"{day}/{path.name}",
                line=str(call.get("line", "")),
                caller_number=str(call.get("caller_number", "")),
                agent=str(call.get("agent", "")),
                started_at=ended - timedelta(seconds=seconds),
                seconds=round(seconds, 2),
                size=path.stat().st_size,
                sha256=sha256,
            )
            if not await self._shelve(row, path):
                continue
            if self.publish is not None:
                await self.publish(
                    {"type": "recording.filed", "call_id": call_id, "recording_id": row.id, "kind": kind}
                )
            entered.append(row)
        # Looked up once the rows exist: a ticket taken meanwhile files them itself (file_under), so
        # whichever comes second finds the other.
        ticket = (await self.tickets_of([call_id])).get(call_id) if self.tickets_of and entered else None
        if ticket:
            await self.file_under(call_id, ticket)
        await self._write_down([row for row in entered if row.kind in DIRECTIONS])
        return [row.id for row in entered]

    async def _write_down(self, rows: Sequence[RecordingRow]) -> None:
        """Each direction's words, kept beside its recording (when the deployment asked for them)."""
        if self.scribe is None:
            return
        for row in rows:
            try:
                text = (await self.scribe.transcribe(self.folder / row.file)).text
            except Exception:
                log.exception("recording %s not written down; its audio is kept", row.id)
                continue
            async with self.writes.begin() as session:
                await session.merge(
                    RecordingTextRow(recording_id=row.id, text=text, transcribed_at=self.clock())
                )

    async def keep(
        self,
        source: Path,
        call_id: str,
        kind: str,
        ticket: str,
        caller_number: str,
        started_at: datetime,
        seconds: float,
    ) -> dict[str, Any]:
        """A recording no call's MixMonitor made (a voicemail), copied into its day's folder and entered
        under its ticket and its call (whose record hears of it, ``recording.filed``); keeping it again
        returns the first entry. The source stays for its owner."""
        day = started_at.astimezone(self.zone).strftime("%Y/%m/%d")
        file = f"{day}/{Path(kept_path('', call_id, kind)).name}"
        async with self.sessions() as session:
            known = await session.scalar(select(RecordingRow).where(RecordingRow.file == file))
        if known is not None:
            return shown(known)
        row = RecordingRow(
            call_id=call_id,
            ticket=ticket,
            kind=kind,
            file=file,
            line="",
            caller_number=caller_number,
            agent="",
            started_at=started_at,
            seconds=round(seconds, 2),
            size=source.stat().st_size,
            sha256=await asyncio.to_thread(_digest, source),
        )
        if await self._shelve(row, source, copy=True) and self.publish is not None:
            await self.publish(
                {"type": "recording.filed", "call_id": call_id, "recording_id": row.id, "kind": kind}
            )
        return shown(row)

    async def _shelve(self, row: RecordingRow, path: Path, copy: bool = False) -> bool:
        """Register the file and put it in place (moved, or copied) as one step: if the row cannot be
        written, the file is back as it was (the next entry finds it there)."""
        destination = self.folder / row.file
        placed = False
        try:
            async with self.writes.begin() as session:
                if await session.scalar(select(RecordingRow.id).where(RecordingRow.file == row.file)):
                    return False
                session.add(row)
                await session.flush()
                destination.parent.mkdir(parents=True, exist_ok=True)
                if copy:
                    await asyncio.to_thread(shutil.copyfile, path, destination)
                else:
                    path.replace(destination)
                placed = True
        except BaseException:
            if placed and copy:
                destination.unlink(missing_ok=True)
            elif placed:
                destination.replace(path)
            raise
        return True

    async def file_of(self, sha256: str) -> tuple[int, Path] | None:
        """A recording still kept, by its content (a notice names its files so)."""
        async with self.sessions() as session:
            row = await session.scalar(
                select(RecordingRow).where(RecordingRow.sha256 == sha256, RecordingRow.purged_at.is_(None))
            )
        return None if row is None else (row.id, self.folder / row.file)

    async def file_under(self, call_id: str, ticket: str) -> None:
        """A ticket was taken on this call, or a call placed about it: its recordings not yet under a
        ticket are now under this one."""
        async with self.writes.begin() as session:
            await session.execute(
                update(RecordingRow)
                .where(RecordingRow.call_id == call_id, RecordingRow.ticket.is_(None))
                .values(ticket=ticket)
            )

    async def of_calls(self, call_ids: Sequence[str], confidential: bool = True) -> list[dict[str, Any]]:
        """These calls' recordings; those of confidential tickets' calls only if ``confidential``."""
        query = select(RecordingRow).where(RecordingRow.call_id.in_(call_ids)).order_by(RecordingRow.id)
        async with self.sessions() as session:
            rows = list((await session.execute(query)).scalars())
        hidden = set() if confidential else await self._confidential(rows)
        return [shown(row) for row in rows if row.id not in hidden]

    async def _confidential(self, rows: Sequence[RecordingRow]) -> set[int]:
        """The ids of these recordings that are about a confidential ticket: the one they are filed under,
        or any ticket their call is about."""
        if self.confidential_tickets is None or not rows:
            return set()
        about: defaultdict[str, set[str]] = defaultdict(set)
        query = select(TICKET_CALLS.c.call_id, TICKET_CALLS.c.ticket_number).where(
            TICKET_CALLS.c.call_id.in_({row.call_id for row in rows})
        )
        async with self.sessions() as session:
            for call_id, number in await session.execute(query):
                about[call_id].add(number)
        for row in rows:
            if row.ticket:
                about[row.call_id].add(row.ticket)
        secret = await self.confidential_tickets(set().union(*about.values())) if about else set()
        return {row.id for row in rows if about[row.call_id] & secret}

    async def text_of(self, recording_id: int) -> str | None:
        async with self.sessions() as session:
            row = await session.get(RecordingTextRow, recording_id)
            return None if row is None else row.text

    async def search(self, words: str, limit: int = 50, confidential: bool = True) -> list[dict[str, Any]]:
        """The kept recordings whose words contain ``words``, newest first, each with the snippets around
        the matches (never its whole text); those of confidential tickets' calls only if ``confidential``."""
        query = (
            select(RecordingRow, RecordingTextRow.text)
            .join(RecordingTextRow, RecordingTextRow.recording_id == RecordingRow.id)
            .where(RecordingTextRow.text.contains(words, autoescape=True), RecordingRow.purged_at.is_(None))
            .order_by(RecordingRow.started_at.desc(), RecordingRow.id.desc())
            .limit(limit)
        )
        found: list[tuple[RecordingRow, str]] = []
        for offset in itertools.count(0, limit):  # page on past the hidden ones, to ``limit`` shown
            async with self.sessions() as session:
                page = [(row, text) for row, text in await session.execute(query.offset(offset))]
            hidden = set() if confidential else await self._confidential([row for row, _ in page])
            found += [(row, text) for row, text in page if row.id not in hidden]
            if len(page) < limit or len(found) >= limit:
                break
        return [{**shown(row), "snippets": snippets(text, words)} for row, text in found[:limit]]

    async def find(self, recording_id: int) -> tuple[dict[str, Any], Heard, Path] | None:
        async with self.sessions() as session:
            row = await session.get(RecordingRow, recording_id)
            if row is None:
                return None
            grants = select(RecordingGrantRow.unit_code).where(RecordingGrantRow.recording_id == row.id)
            units = frozenset((await session.execute(grants)).scalars())
        heard = Heard(row.agent, row.started_at, units, confidential=bool(await self._confidential([row])))
        return shown(row), heard, self.folder / row.file

    async def purge(self, retention: Mapping[str, int], held: Held, batch: int = 500) -> list[int]:
        """Delete the files (and their words) kept longer than their kind's days, except those a ticket still
        holds; each deletion is recorded (the row keeps its facts and ``purged_at``; the trail says why)."""
        now = self.clock()
        purged: list[int] = []
        for kind, days in retention.items():
            async with self.sessions() as session:
                rows = list(
                    (
                        await session.execute(
                            select(RecordingRow)
                            .where(
                                RecordingRow.kind == kind,
                                RecordingRow.purged_at.is_(None),
                                RecordingRow.started_at < now - timedelta(days=days),
                            )
                            .order_by(RecordingRow.started_at)
                            .limit(batch)
                        )
                    ).scalars()
                )
            kept = await held([row.call_id for row in rows]) if rows else set()
            for row in rows:
                if row.call_id in kept:
                    continue
                (self.folder / row.file).unlink(missing_ok=True)
                async with self.writes.begin() as session:
                    await session.execute(
                        update(RecordingRow).where(RecordingRow.id == row.id).values(purged_at=now)
                    )
                    await session.execute(
                        delete(RecordingTextRow).where(RecordingTextRow.recording_id == row.id)
                    )
                    session.add(
                        RecordingAccessRow(
                            at=now,
                            actor="system",
                            role="system",
                            action="purge",
                            recording_id=row.id,
                            call_id=row.call_id,
                            allowed=True,
                            reason=f"保存期满（{kind} {days} 天）",
                        )
                    )
                purged.append(row.id)
        return purged

    async def grant(self, recording_id: int, unit: str, by: str) -> None:
        """Let one unit hear one recording; a unit the directory does not know, or retired, is refused."""
        async with self.writes.begin() as session:
            if not await session.scalar(select(UNITS.c.code).where(UNITS.c.code == unit, UNITS.c.active)):
                raise UnknownUnit(unit)
            if await session.get(RecordingGrantRow, (recording_id, unit)) is None:
                session.add(
                    RecordingGrantRow(
                        recording_id=recording_id, unit_code=unit, granted_by=by, granted_at=self.clock()
                    )
                )

    async def audit(self, **entry: Any) -> None:
        await self.audit_each([entry])

    async def audit_each(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Several accesses at once (a search, on each recording it found), all or none on the trail."""
        at = self.clock()
        async with self.writes.begin() as session:
            session.add_all(RecordingAccessRow(at=at, **entry) for entry in entries)

    async def trail(self, recording_id: int) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(RecordingAccessRow)
                    .where(RecordingAccessRow.recording_id == recording_id)
                    .order_by(RecordingAccessRow.id)
                )
            ).scalars()
            return [
                {
                    "at": r.at,
                    "actor": r.actor,
                    "role": r.role,
                    "unit": r.unit_code,
                    "action": r.action,
                    "allowed": r.allowed,
                    "reason": r.reason,
                }
                for r in rows
            ]


def shown(row: RecordingRow) -> dict[str, Any]:
    """A recording as the API shows it: what it is, never where it lies (moments in the deployment's zone,
    written so by the API)."""
    return {
        "id": row.id,
        "call_id": row.call_id,
        "ticket": row.ticket,
        "kind": row.kind,
        "line": row.line,
        "caller_number": row.caller_number,
        "agent": row.agent,
        "started_at": row.started_at,
        "seconds": row.seconds,
        "size": row.size,
        "sha256": row.sha256,
        "purged_at": row.purged_at,
    }
